"""Read mail and archives into items: every attachment (and every message without one) with its message.

``iter_items`` walks a source — a folder, .zip, .eml, .mbox, Maildir or Outlook .msg, nested up to
:data:`MAX_DEPTH` deep — and yields each spreadsheet, each other attachment and each unreadable part
as an :class:`Item` carrying the envelope (sender, date, subject) of the message it came in; who that
is for forwarded mail is decided in ``inbox.envelope``. ``collect`` saves the items, reconcile's
input expansion (``inbox.sources``) reads them.
"""

from __future__ import annotations

import hashlib
import io
import logging
import mailbox
import os
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email import message_from_bytes, policy
from email.message import Message
from pathlib import Path

from cascadebook.inbox.common import SUFFIX_BY_MIME, safe_filename, suffix_of
from cascadebook.inbox.envelope import (
    Envelope,
    envelope_of,
    forward_author,
    forwarded,
    inline_forward,
    message_date,
    outlook_envelope,
)
from cascadebook.inbox.manifest import MANIFEST_CSV, MANIFEST_JSON, is_collected
from cascadebook.kinds import WORKBOOK_SUFFIXES

SEP = " › "
MAX_DEPTH = 4  # archives in messages in archives ...
MAX_MEMBER = 100 * 1024 * 1024  # a zip member larger than this (declared) is refused
MAX_RATIO = 200


@dataclass
class Item:
    """One thing found in a source: an attachment (spreadsheet or not), or a message without one."""

    kind: str  # workbook, other, no-attachment, unreadable
    display: str  # "inbox.mbox › message 3 › FY2027_MKT.xlsx"
    filename: str = ""
    data: bytes = field(default=b"", repr=False)
    sender: str = ""  # address
    sender_name: str = ""
    date: datetime | None = None
    subject: str = ""
    message_id: str = ""
    note: str = ""
    path: Path | None = None  # for a workbook found as a plain file: read from there
    forwarded_by: str = ""  # the address that forwarded the message (the sender is its author)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.payload()).hexdigest() if self.kind == "workbook" else ""

    def payload(self) -> bytes:
        if self.path is not None and not self.data:
            self.data = self.path.read_bytes()
        return self.data


def is_maildir(path: Path) -> bool:
    return path.is_dir() and (path / "cur").is_dir() and (path / "new").is_dir()


def looks_like_mbox(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(5) == b"From "
    except OSError:
        return False


def iter_items(source: str | Path, display: str | None = None) -> Iterator[Item]:
    """Everything in one source, in a stable order; unreadable parts become ``unreadable`` items."""
    source = Path(source)
    display = display or source.name
    if source.is_dir():
        if is_maildir(source):
            yield from _maildir(source, display)
        else:
            yield from _folder(source, display)
        return
    suffix = source.suffix.lower()
    try:
        if suffix in (".mbox", ".mbx") or (suffix == "" and looks_like_mbox(source)):
            yield from _mbox(source, display)
        elif suffix in (".eml", ".msg", ".zip"):
            yield from _blob(source.read_bytes(), source.name, display, Envelope(), 0)
        elif suffix in WORKBOOK_SUFFIXES:
            yield Item("workbook", display, safe_filename(source.name), path=source)
        else:
            yield Item("other", display, source.name, note="not a spreadsheet or a mail file")
    except OSError as exc:
        yield Item("unreadable", display, source.name, note=f"cannot read: {exc.strerror or exc}")


def _folder(folder: Path, display: str) -> Iterator[Item]:
    for root, dirs, files in os.walk(folder):
        root_path = Path(root)
        rel = root_path.relative_to(folder)
        keep = []
        for name in sorted(dirs):
            if name.startswith("."):
                continue
            sub = root_path / name
            if is_maildir(sub):
                yield from _maildir(sub, _join(display, *rel.parts, name))
            else:
                keep.append(name)
        dirs[:] = keep
        for name in sorted(files):
            if name.startswith((".", "~$")) or (
                rel == Path(".") and name in (MANIFEST_JSON, MANIFEST_CSV) and is_collected(folder)
            ):
                continue
            yield from iter_items(root_path / name, _join(display, *rel.parts, name))


def _join(*parts: str) -> str:
    return "/".join(p for p in parts if p and p != ".")


def _mbox(path: Path, display: str) -> Iterator[Item]:
    box = mailbox.mbox(str(path), create=False)
    try:
        for number, key in enumerate(box.iterkeys(), 1):
            where = f"{display}{SEP}message {number}"
            try:
                data = box.get_bytes(key)
            except Exception as exc:  # noqa: BLE001 - one broken message must not stop the rest
                yield Item("unreadable", where, note=f"cannot read the message ({exc})")
                continue
            yield from _message_bytes(data, where, 0)
    finally:
        box.close()


def _maildir(path: Path, display: str) -> Iterator[Item]:
    box = mailbox.Maildir(str(path), factory=None, create=False)
    found = []
    for key in box.iterkeys():
        try:
            data = box.get_bytes(key)
            delivered = datetime.fromtimestamp(box.get_message(key).get_date(), timezone.utc)
        except Exception:  # noqa: BLE001
            continue
        msg = _parse(data)
        moment = message_date(msg, delivered) if msg is not None else delivered
        found.append((moment or delivered, key, data))
    found.sort(key=lambda t: (t[0], t[1]))
    for number, (moment, _key, data) in enumerate(found, 1):
        yield from _message_bytes(data, f"{display} (Maildir){SEP}message {number}", 0, fallback_date=moment)


def _parse(data: bytes) -> Message | None:
    try:
        return message_from_bytes(data, policy=policy.default)
    except Exception:  # noqa: BLE001
        return None


def _message_bytes(data: bytes, where: str, depth: int, fallback_date: datetime | None = None) -> Iterator[Item]:
    msg = _parse(data)
    if msg is None:
        yield Item("unreadable", where, note="not a readable e-mail message")
        return
    yield from _message(msg, where, envelope_of(msg, fallback_date), depth)


def _leaves(msg: Message, env: Envelope) -> Iterator[tuple[Message, Envelope]]:
    """A message's leaf parts, each with the envelope it belongs to: the parts of a message forwarded
    as an attachment (message/rfc822) are its author's, not the forwarder's; so are the attachments
    of a message forwarded inline ("---------- Forwarded message ---------", From: ...)."""
    env = inline_forward(msg, env)
    stack: list[tuple[Message, Envelope]] = [(msg, env)]
    while stack:
        part, owner = stack.pop()
        if part is not msg and part.get_content_type() == "message/rfc822" and part.is_multipart():
            inner = [m for m in part.get_payload() if isinstance(m, Message)]
            stack.extend(reversed([(m, inline_forward(m, forwarded(owner, envelope_of(m)))) for m in inner]))
        elif part.is_multipart():
            stack.extend(reversed([(sub, owner) for sub in part.get_payload() if isinstance(sub, Message)]))
        elif part.get_content_maintype() != "message":
            yield part, owner


def _message(msg: Message, where: str, env: Envelope, depth: int) -> Iterator[Item]:
    found = False
    names: dict[str, int] = {}
    for part, owner in _leaves(msg, env):
        try:
            filename = part.get_filename()
        except Exception:  # noqa: BLE001
            filename = None
        ctype = part.get_content_type()
        if not filename:
            if ctype not in SUFFIX_BY_MIME and ctype not in (
                "application/zip",
                "application/x-zip-compressed",
                "application/vnd.ms-outlook",
            ):
                continue  # the body text, not an attachment
            filename = "attachment" + SUFFIX_BY_MIME.get(ctype, ".zip" if "zip" in ctype else ".msg")
        name = safe_filename(filename)
        if not suffix_of(name) and ctype in SUFFIX_BY_MIME:
            name += SUFFIX_BY_MIME[ctype]
        names[name] = names.get(name, 0) + 1
        label = name if names[name] == 1 else f"{name} ({names[name]})"
        try:
            payload = part.get_payload(decode=True) or b""
        except Exception:  # noqa: BLE001
            yield _item("unreadable", f"{where}{SEP}{label}", name, b"", owner, "the attachment cannot be decoded")
            continue
        found = True
        yield from _blob(payload, name, f"{where}{SEP}{label}", owner, depth + 1, content_type=ctype)
    if not found:
        yield _item("no-attachment", where, "", b"", env, "the message has no attachment")


def _item(kind: str, where: str, name: str, data: bytes, env: Envelope, note: str = "") -> Item:
    return Item(
        kind,
        where,
        name,
        data,
        env.sender,
        env.sender_name,
        env.date,
        env.subject,
        env.message_id,
        note,
        forwarded_by=env.forwarded_by,
    )


def _blob(data: bytes, name: str, where: str, env: Envelope, depth: int, content_type: str = "") -> Iterator[Item]:
    """Bytes named ``name``: a workbook, or a container (zip, eml, msg) to open, or something else."""
    suffix = suffix_of(name)
    if name.startswith(("~$", ".~lock")):
        yield _item("other", where, name, b"", env, "an editor's lock file")
    elif suffix in WORKBOOK_SUFFIXES:
        yield _item("workbook", where, name, data, env)
    elif depth > MAX_DEPTH and suffix in (".zip", ".eml", ".msg"):
        yield _item("unreadable", where, name, b"", env, "nested too deeply")
    elif suffix == ".zip":
        yield from _zip(data, where, env, depth)
    elif suffix == ".eml" or content_type == "message/rfc822":
        msg = _parse(data)
        if msg is None:
            yield _item("unreadable", where, name, b"", env, "not a readable e-mail message")
        else:
            yield from _message(msg, where, forwarded(env, envelope_of(msg)), depth)
    elif suffix == ".msg":
        yield from _msg(data, name, where, env, depth)
    else:
        yield _item("other", where, name, b"", env, f"not a spreadsheet ({content_type or suffix or 'no type'})")


def _zip(data: bytes, where: str, env: Envelope, depth: int) -> Iterator[Item]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError) as exc:
        yield _item("unreadable", where, "", b"", env, f"a damaged zip archive ({exc})")
        return
    with archive:
        for info in sorted(archive.infolist(), key=lambda i: i.filename):
            member = info.filename
            if info.is_dir() or member.startswith("__MACOSX/") or Path(member).name.startswith("._"):
                continue
            label = f"{where}{SEP}{member}"
            name = safe_filename(member)
            if info.flag_bits & 0x1:
                yield _item("unreadable", label, name, b"", env, "the archive member is encrypted")
                continue
            if info.file_size > MAX_MEMBER or (
                info.file_size > 20 * 1024 * 1024 and info.file_size / max(info.compress_size, 1) > MAX_RATIO
            ):
                yield _item("unreadable", label, name, b"", env, "the archive member is too large")
                continue
            if suffix_of(name) not in (*WORKBOOK_SUFFIXES, ".zip", ".eml", ".msg"):
                yield _item("other", label, name, b"", env, "not a spreadsheet")
                continue
            try:
                payload = archive.read(info)
            except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError) as exc:
                yield _item("unreadable", label, name, b"", env, f"cannot extract ({exc})")
                continue
            yield from _blob(payload, name, label, env, depth + 1)


def _msg(data: bytes, name: str, where: str, env: Envelope, depth: int) -> Iterator[Item]:
    try:
        import extract_msg
    except ImportError:
        yield _item("unreadable", where, name, b"", env, "reading .msg needs the extract-msg package")
        return
    logging.getLogger("extract_msg").setLevel(logging.ERROR)
    try:
        msg = extract_msg.openMsg(data, strict=False)
    except Exception as exc:  # noqa: BLE001 - a broken .msg is a finding, never a crash
        yield _item("unreadable", where, name, b"", env, f"not a readable Outlook message ({type(exc).__name__})")
        return
    try:
        yield from _msg_items(msg, where, env if depth > 0 else Envelope(), depth)
    finally:
        try:
            msg.close()
        except Exception:  # noqa: BLE001
            pass


def _msg_items(msg, where: str, outer: Envelope, depth: int) -> Iterator[Item]:
    env = forwarded(outer, outlook_envelope(msg))
    try:
        body = str(getattr(msg, "body", None) or "")
    except Exception:  # noqa: BLE001 - extract-msg decodes the body lazily and may fail on odd files
        body = ""
    env = forward_author(env.subject, body, env)
    attachments = list(getattr(msg, "attachments", None) or [])
    if not attachments:
        yield _item("no-attachment", where, "", b"", env, "the message has no attachment")
        return
    names: dict[str, int] = {}
    for att in attachments:
        raw_name = (
            getattr(att, "longFilename", None)
            or getattr(att, "shortFilename", None)
            or getattr(att, "name", None)
            or "attachment"
        )
        name = safe_filename(str(raw_name))
        names[name] = names.get(name, 0) + 1
        label = f"{where}{SEP}{name if names[name] == 1 else f'{name} ({names[name]})'}"
        try:
            payload = att.data
        except Exception as exc:  # noqa: BLE001
            yield _item("unreadable", label, name, b"", env, f"cannot read the attachment ({type(exc).__name__})")
            continue
        if isinstance(payload, (bytes, bytearray)):
            yield from _blob(bytes(payload), name, label, env, depth + 1)
        elif payload is not None and hasattr(payload, "attachments"):  # an embedded message
            yield from _msg_items(payload, label, env, depth + 1)
        else:
            yield _item("other", label, name, b"", env, "an attachment that is not a file (a link or an object)")
