"""The inputs of a reconcile: files, folders (recursively) and mail sources, as workbooks to read.

A mail source (.zip, .eml, .mbox, .msg, Maildir, a folder written by ``collect``) is opened by
``inbox.messages``; each workbook in it comes back as an :class:`Input` named like
"inbox.mbox › message 3 › x.xlsx" and carrying its :class:`~cascadebook.model.Origin` (the message it
came in), which the pipeline hands on to the workbook's ``Return``. Nothing is remembered here
between calls: where a workbook came from travels with it.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cascadebook.atomic import write_bytes_atomic
from cascadebook.inbox.common import MailError, iso_utc, safe_filename
from cascadebook.inbox.manifest import MANIFEST_CSV, MANIFEST_JSON, collected_entries, is_collected
from cascadebook.inbox.messages import Item, is_maildir, iter_items, looks_like_mbox
from cascadebook.model import Origin

MAIL_SUFFIXES = (".eml", ".mbox", ".mbx", ".msg", ".zip")
CACHE_ENV = "CASCADEBOOK_CACHE"


@dataclass(frozen=True)
class Input:
    """One workbook to read: where it is, the name users see, and the message it came in (if it did)."""

    path: Path
    name: str
    origin: Origin | None = None


def expand_inputs(inputs: list[str | Path | Input]) -> list[Input]:
    """Files and folders (recursively) -> inputs, sorted by name for a stable order. An :class:`Input`
    given as such (the intake portal's stored uploads, with their upload time) is taken as it is.

    A file given twice (or found twice under the same name) is read once; names that tie keep the
    order the inputs were given in.
    """
    found: list[Input] = []
    for item in inputs:
        if isinstance(item, Input):
            found.append(item)
            continue
        item = Path(item)
        if is_mail_source(item):
            found.extend(_expand_mail(item, item.name))
        elif item.is_dir():
            for root, dirs, files in os.walk(item):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    full = Path(root) / name
                    shown = str(full.relative_to(item.parent))
                    found.extend(_expand_mail(full, shown) if is_mail_source(full) else [Input(full, shown)])
        else:
            found.append(Input(item, item.name))
    unique: dict[tuple[Path, str], Input] = {}
    for one in found:
        unique.setdefault((one.path, one.name), one)
    return sorted(unique.values(), key=lambda one: one.name)


def is_mail_source(path: str | Path) -> bool:
    """Whether reconcile should hand this input to the mail reader rather than read it as a workbook."""
    path = Path(path)
    if path.is_dir():
        return is_maildir(path) or is_collected(path)
    if not path.is_file():
        return False
    suffix = path.suffix.lower()
    if suffix in MAIL_SUFFIXES:
        return True
    return suffix == "" and looks_like_mbox(path)


def cache_dir() -> Path:
    """Where attachments are extracted: ``$CASCADEBOOK_CACHE``, else the user's cache folder."""
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "cascadebook"


def _cached(data: bytes, filename: str) -> Path:
    """The attachment written once under its content hash, keeping its name for people and links."""

    digest = hashlib.sha256(data).hexdigest()
    path = cache_dir() / "extracted" / digest[:2] / digest[:24] / safe_filename(filename, "attachment.xlsx")
    if not (path.is_file() and path.stat().st_size == len(data)):
        write_bytes_atomic(path, data)
    return path


def _origin(item: Item) -> Origin:
    return Origin(
        item.display,
        item.sender,
        item.sender_name,
        iso_utc(item.date),
        item.subject,
        item.message_id,
        item.forwarded_by,
    )


def _expand_mail(source: Path, display: str) -> list[Input]:
    """Every workbook in a mail source, each with the message it came in.

    Attachments are written to the cache (:func:`cache_dir`) so the master's links to them keep
    working. A source that cannot be read at all is returned as itself, so reconcile lists it as a
    skipped file rather than losing it.
    """
    if source.is_dir() and is_collected(source):
        return _expand_collected(source, display)
    found: list[Input] = []
    try:
        items = list(iter_items(source, display))
    except Exception:  # noqa: BLE001 - e.g. a mailbox that cannot be parsed at all
        return [Input(source, display)]
    for item in items:
        if item.kind != "workbook":
            continue
        if item.path is not None:
            path = item.path
        else:
            try:
                path = _cached(item.payload(), item.filename)
            except OSError as exc:
                raise MailError(f"cannot write the attachments of {display} to {cache_dir()}: {exc}") from None
        found.append(Input(path, item.display, _origin(item)))
    if (
        not found
        and not any(i.kind == "workbook" for i in items)
        and source.is_file()
        and any(i.kind == "unreadable" and i.display == display for i in items)
    ):
        return [Input(source, display)]
    return found


def _expand_collected(folder: Path, display: str) -> list[Input]:
    """A folder written by ``collect``: its files, dated and attributed by its manifest."""
    known = collected_entries(folder)
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            path = Path(root) / name
            rel = path.relative_to(folder).as_posix()
            if rel in (MANIFEST_JSON, MANIFEST_CSV) or name.startswith("."):
                continue
            entry = known.get(rel)
            origin = None
            if entry:
                origin = Origin(
                    entry.get("source", ""),
                    entry.get("sender", ""),
                    entry.get("sender_name", ""),
                    entry.get("date", ""),
                    entry.get("subject", ""),
                    entry.get("message_id", ""),
                    entry.get("forwarded_by", ""),
                )
            found.append(Input(path, f"{display}/{rel}", origin))
    return found
