"""The manifest ``collect`` writes beside the workbooks it saves (manifest.json and manifest.csv).

It says, for each thing found in the sources, where it was, what became of it (collected, duplicate,
skipped, ...) and the message it came in. Reconcile reads it back to date and attribute a collected
folder's workbooks (``inbox.sources``).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

MANIFEST_JSON = "manifest.json"
MANIFEST_CSV = "manifest.csv"
MANIFEST_FORMAT = "cascadebook-collect"


@dataclass
class Entry:
    """One line of the manifest."""

    source: str
    status: str  # collected, duplicate, skipped, no-attachment, unreadable
    file: str = ""  # the name in the collected folder
    sender: str = ""
    sender_name: str = ""
    date: str = ""
    subject: str = ""
    message_id: str = ""
    sha256: str = ""
    size: int = 0
    department: str = ""
    cycle: str = ""
    duplicate_of: str = ""
    note: str = ""
    forwarded_by: str = ""


def is_collected(path: Path) -> bool:
    manifest = path / MANIFEST_JSON
    if not manifest.is_file():
        return False
    try:
        return json.loads(manifest.read_text(encoding="utf-8")).get("format") == MANIFEST_FORMAT
    except (OSError, ValueError, AttributeError):
        return False


def collected_entries(folder: Path) -> dict[str, dict]:
    """The manifest's ``collected`` lines by file name (empty when it cannot be read)."""
    try:
        manifest = json.loads((folder / MANIFEST_JSON).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        manifest = {}
    return {e.get("file"): e for e in manifest.get("files", []) if e.get("status") == "collected"}


def manifest_csv(entries: Iterable[Entry]) -> str:
    out = io.StringIO()
    names = list(Entry.__dataclass_fields__)
    writer = csv.DictWriter(out, fieldnames=names, lineterminator="\r\n")
    writer.writeheader()
    for entry in entries:
        writer.writerow(asdict(entry))
    return out.getvalue()
