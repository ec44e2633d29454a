"""The ``collect`` command: save the returned workbooks found in mail and archives into one folder.

Every spreadsheet found by ``inbox.messages`` is written once (byte-identical copies from several
messages keep the newest message's), named with its mail date, and listed in manifest.json and
manifest.csv (``inbox.manifest``) with the message it came in and the department it belongs to.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from cascadebook.atomic import all_or_nothing, check_writable, write_bytes_atomic, write_text_atomic
from cascadebook.findings import Finding
from cascadebook.inbox.common import MailError, iso_utc, safe_filename
from cascadebook.inbox.manifest import MANIFEST_CSV, MANIFEST_FORMAT, MANIFEST_JSON, Entry, manifest_csv
from cascadebook.inbox.messages import Item, iter_items
from cascadebook.inbox.sender import sender_finding
from cascadebook.intake.reader import read_return
from cascadebook.spec.schema import load_spec


@dataclass
class CollectResult:
    folder: Path
    entries: list[Entry]
    findings: list[Finding]

    def by_status(self, status: str) -> list[Entry]:
        return [e for e in self.entries if e.status == status]

    @property
    def collected(self) -> list[Entry]:
        return self.by_status("collected")

    def to_dict(self) -> dict:
        return {
            "format": MANIFEST_FORMAT,
            "version": 1,
            "collected_at": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
            "files": [asdict(e) for e in self.entries],
            "findings": [f.to_dict() for f in self.findings],
        }


def _target_name(item: Item) -> str:
    name = safe_filename(item.filename or "attachment.xlsx")
    if item.date is not None:
        name = f"{item.date.astimezone(timezone.utc):%Y-%m-%d %H%M} {name}"
    return name


def _free_name(folder: Path, name: str, data: bytes, taken: set[str]) -> str:
    stem, suffix = Path(name).stem, Path(name).suffix
    candidate, n = name, 1
    while True:
        path = folder / candidate
        if candidate.casefold() not in taken and (not path.exists() or path.read_bytes() == data):
            return candidate
        n += 1
        candidate = f"{stem} ({n}){suffix}"


def collect(sources: Sequence[str | Path], folder: str | Path, *, strategy=None, spec=None) -> CollectResult:
    """Extract every spreadsheet from ``sources`` into ``folder`` and write manifest.json and manifest.csv.

    Byte-identical copies are written once (the copy from the newest message is kept; the others are
    listed as duplicates). With a strategy, a workbook sent from an address that is not its
    department head's is a ``sender-not-head`` warning.
    """

    spec = spec or load_spec("department")
    folder = Path(folder)
    items: list[Item] = []
    for source in sources:
        source = Path(source)
        if not source.exists():
            raise MailError(f"{source} does not exist")
        if source.resolve() == folder.resolve():
            raise MailError(f"{source} is the output folder; collect into another folder")
        items.extend(iter_items(source))

    entries: list[Entry] = []
    groups: dict[str, list[Item]] = {}
    for item in items:
        if item.kind == "workbook":
            groups.setdefault(item.sha256, []).append(item)
    order = {id(item): i for i, item in enumerate(items)}
    keep = {digest: max(group, key=lambda it: (iso_utc(it.date), -order[id(it)])) for digest, group in groups.items()}

    check_writable([folder / MANIFEST_JSON, folder / MANIFEST_CSV])  # before anything is extracted
    folder.mkdir(parents=True, exist_ok=True)
    taken: set[str] = set()
    written: dict[str, str] = {}
    findings: list[Finding] = []
    for digest, item in sorted(keep.items(), key=lambda kv: order[id(kv[1])]):
        data = item.payload()
        name = _free_name(folder, _target_name(item), data, taken)
        taken.add(name.casefold())
        target = folder / name
        if not target.exists():
            write_bytes_atomic(target, data)
        if item.date is not None:
            stamp = item.date.timestamp()
            os.utime(target, (stamp, stamp))
        written[digest] = name
    for item in items:
        entry = Entry(
            source=item.display,
            status=_status(item),
            sender=item.sender,
            sender_name=item.sender_name,
            date=iso_utc(item.date),
            subject=item.subject,
            message_id=item.message_id,
            note=item.note,
            forwarded_by=item.forwarded_by,
        )
        if item.kind == "workbook":
            digest = item.sha256
            entry.sha256, entry.size = digest, len(item.payload())
            if keep[digest] is item:
                entry.file = written[digest]
                ret = read_return(folder / entry.file, spec, entry.file)
                if ret.metadata is not None:
                    entry.department, entry.cycle = ret.metadata.department, ret.metadata.cycle
                else:
                    entry.note = ret.reason or "not a cascadebook template"
            else:
                entry.status = "duplicate"
                entry.duplicate_of = keep[digest].display
                entry.file = written[digest]
        entries.append(entry)
    by_file = {e.file: e for e in entries if e.status == "collected"}
    for entry in entries:
        if entry.status == "duplicate" and entry.file in by_file:
            entry.department, entry.cycle = by_file[entry.file].department, by_file[entry.file].cycle
        if entry.status == "collected" and strategy is not None:
            finding = sender_finding(
                strategy, entry.department, entry.sender, entry.file, entry.source, forwarded_by=entry.forwarded_by
            )
            if finding:
                findings.append(finding)
                entry.note = "; ".join(n for n in (entry.note, finding.message) if n)
    result = CollectResult(folder, entries, findings)
    with all_or_nothing():  # the two manifests say the same: both new, or both as they were
        write_text_atomic(folder / MANIFEST_JSON, json.dumps(result.to_dict(), indent=2, ensure_ascii=False) + "\n")
        write_text_atomic(folder / MANIFEST_CSV, manifest_csv(entries))
    return result


def _status(item: Item) -> str:
    return {"workbook": "collected", "other": "skipped"}.get(item.kind, item.kind)
