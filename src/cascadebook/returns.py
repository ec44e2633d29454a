"""Reading returned workbooks: sniff the file, find its identity, pull every row with its cells.

This is the hot path (hundreds of workbooks per run), so values come through python-calamine and
the zip is opened once for the checks and document properties; nothing here loads a whole
workbook object model. A file that cannot be read becomes findings, never an exception.
"""
from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .cells import a1
from .findings import Finding
from .model import Metadata, Record
from .spec import SheetSpec, Spec, normalise_header

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xltx", ".xltm", ".ods", ".xls", ".xlsb")
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ENCRYPTED_MARK = "EncryptedPackage".encode("utf-16-le")
MAX_UNCOMPRESSED = 200 * 1024 * 1024  # declared size of all parts; more is refused as a zip bomb
MAX_RATIO = 200  # declared uncompressed/compressed ratio of one part
HEADER_SCAN_ROWS = 30


@dataclass
class Return:
    """What one returned file holds, before identity checks and validation."""

    path: str
    file: str  # the name shown to users (relative to the input given)
    metadata: Metadata | None = None
    modified: str = ""  # ISO time the workbook was last saved, for newest-wins
    received: str = ""  # when the file arrived (an e-mail's date), if known; newest-wins prefers it
    records: dict[str, list[Record]] = field(default_factory=dict)
    sheet_names: dict[str, str] = field(default_factory=dict)  # spec sheet key -> name in the file
    findings: list[Finding] = field(default_factory=list)
    status: str = "read"  # read, unreadable; reconcile sets accepted / superseded / rejected
    reason: str = ""

    @property
    def department(self) -> str:
        return self.metadata.department if self.metadata else ""

    @property
    def row_count(self) -> int:
        return sum(len(rows) for rows in self.records.values())

    def fail(self, code: str, message: str, **where: Any) -> "Return":
        self.status = "unreadable"
        self.reason = message
        self.findings.append(Finding(code, message, file=self.file, **where))
        return self


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def read_return(path: str | Path, spec: Spec, file: str | None = None) -> Return:
    """Read one returned file; problems become findings on the Return, never exceptions."""
    path = Path(path)
    ret = Return(path=str(path), file=file or path.name)
    try:
        return _read(path, spec, ret)
    except MemoryError:
        return ret.fail("file-unreadable", "the workbook is too large to read")
    except Exception as exc:  # noqa: BLE001 - a hostile or broken file must never stop the batch
        return ret.fail("file-unreadable", f"cannot read the workbook ({type(exc).__name__}: {exc})"[:300])


def _read(path: Path, spec: Spec, ret: Return) -> Return:
    size = path.stat().st_size
    if size == 0:
        return ret.fail("file-unreadable", "the file is empty (0 bytes)")
    with path.open("rb") as handle:
        head = handle.read(8)
    if head == OLE_MAGIC:
        with path.open("rb") as handle:
            blob = handle.read(4 * 1024 * 1024)
        if ENCRYPTED_MARK in blob:
            return ret.fail("file-encrypted", "the workbook is protected with a password")
        return ret.fail("legacy-format", "the workbook is in the legacy .xls format")
    if not head.startswith(b"PK"):
        return ret.fail("file-unreadable", "the file is not a workbook (not a zip package)")

    props = _zip_checks(path, ret)
    if ret.status == "unreadable":
        return ret
    ret.modified = props.get("modified") or datetime.fromtimestamp(path.stat().st_mtime, timezone.utc).isoformat()

    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_path(str(path))
    try:
        names = {n.casefold(): n for n in book.sheet_names}
        ret.metadata = _metadata(book, names, props)
        if ret.metadata is None:
            return ret.fail("not-a-template", "the workbook has no cascadebook metadata")
        for sheet in spec.sheets:
            name = names.get(sheet.title.casefold())
            if name is None:
                ret.findings.append(Finding("missing-sheet", f"the {sheet.title!r} sheet is missing", file=ret.file,
                                            sheet=sheet.title, department=ret.department))
                ret.records[sheet.key] = []
                continue
            ret.sheet_names[sheet.key] = name
            rows = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
            ret.records[sheet.key] = _records(rows, sheet, name, ret)
    finally:
        book.close()
    return ret


def _zip_checks(path: Path, ret: Return) -> dict[str, str]:
    """Refuse zip bombs by declared size before anything is inflated; read document properties."""
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        ret.fail("file-unreadable", f"the file is damaged or truncated ({exc})")
        return {}
    with archive:
        infos = archive.infolist()
        total = sum(i.file_size for i in infos)
        worst = max((i.file_size / max(i.compress_size, 1) for i in infos), default=0)
        if total > MAX_UNCOMPRESSED or (worst > MAX_RATIO and total > 20 * 1024 * 1024):
            ret.fail("file-unreadable", f"the file would inflate to {total // (1024 * 1024)} MB; refused as a zip bomb")
            return {}
        names = {i.filename for i in infos}
        if "xl/vbaProject.bin" in names or path.suffix.lower() in (".xlsm", ".xltm"):
            ret.findings.append(Finding("macro-enabled", "the workbook contains macros; they were not run",
                                        file=ret.file))
        props: dict[str, str] = {}
        if "docProps/core.xml" in names:
            props.update(_core_properties(archive.read("docProps/core.xml")))
        if "docProps/custom.xml" in names:
            props.update(_custom_properties(archive.read("docProps/custom.xml")))
        if "meta.xml" in names:  # OpenDocument
            props.update(_ods_properties(archive.read("meta.xml")))
        return props


def _xml(data: bytes):
    from defusedxml.ElementTree import fromstring  # never expands entities

    return fromstring(data)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _core_properties(data: bytes) -> dict[str, str]:
    for el in _xml(data):
        if _local(el.tag) == "modified" and el.text:
            return {"modified": el.text.strip()}
    return {}


def _custom_properties(data: bytes) -> dict[str, str]:
    from .templates import META_PROPERTY_PREFIX

    found = {}
    for prop in _xml(data):
        name = prop.get("name") or ""
        if name.startswith(META_PROPERTY_PREFIX) and len(prop):
            found["meta:" + name[len(META_PROPERTY_PREFIX):]] = (prop[0].text or "").strip()
    return found


def _ods_properties(data: bytes) -> dict[str, str]:
    from .templates import META_PROPERTY_PREFIX

    found = {}
    for el in _xml(data).iter():
        tag = _local(el.tag)
        if tag == "date" and el.text:
            found["modified"] = el.text.strip()
        elif tag == "user-defined":
            name = next((v for k, v in el.attrib.items() if _local(k) == "name"), "")
            if name.startswith(META_PROPERTY_PREFIX):
                found["meta:" + name[len(META_PROPERTY_PREFIX):]] = (el.text or "").strip()
    return found


def _metadata(book, names: dict[str, str], props: dict[str, str]) -> Metadata | None:
    from .templates import META_SHEET

    name = names.get(META_SHEET.casefold())
    if name is not None:
        pairs = {}
        for row in book.get_sheet_by_name(name).to_python(skip_empty_area=False):
            if len(row) >= 2 and isinstance(row[0], str):
                pairs[row[0].strip()] = row[1]
        meta = Metadata.from_mapping(pairs)
        if meta is not None:
            return meta
    return Metadata.from_mapping({k[5:]: v for k, v in props.items() if k.startswith("meta:")})


def find_header(rows: list[list[Any]], sheet: SheetSpec) -> tuple[int, dict[str, int]]:
    """The header row (0-based) and column key -> 0-based column, found by header text, not position."""
    wanted = {normalise_header(c.header): c.key for c in sheet.columns}
    best, best_map = -1, {}
    for r, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        found = {}
        for c, value in enumerate(row):
            key = wanted.get(normalise_header(value)) if isinstance(value, str) else None
            if key and key not in found:
                found[key] = c
        if len(found) > len(best_map):
            best, best_map = r, found
    return best, best_map


def _records(rows: list[list[Any]], sheet: SheetSpec, name: str, ret: Return) -> list[Record]:
    header, columns = find_header(rows, sheet)
    if header < 0:
        ret.findings.append(Finding("missing-column", f"no header row of the {sheet.title!r} sheet was found",
                                    file=ret.file, sheet=name, department=ret.department))
        return []
    for col in sheet.columns:
        if col.key not in columns:
            code = "missing-column" if col.required else "optional-column-missing"
            ret.findings.append(Finding(code, f"the column {col.header!r} is missing", file=ret.file,
                                        sheet=name, cell=f"{a1(header + 1, 1)}", department=ret.department))
    input_keys = [c.key for c in sheet.columns if c.is_input and c.key in columns]
    extra = [c for c, v in enumerate(rows[header]) if c not in columns.values() and not is_blank(v)]
    records = []
    extra_values: dict[int, list[int]] = {c: [] for c in extra}
    for r in range(header + 1, len(rows)):
        row = rows[r]
        width = len(row)
        if all(is_blank(row[columns[k]]) for k in input_keys if columns[k] < width):
            continue
        values = {}
        cells = {}
        for key, c in columns.items():
            values[key] = row[c] if c < width else None
            cells[key] = a1(r + 1, c + 1)
        for c in extra:
            if c < width and not is_blank(row[c]):
                extra_values[c].append(r + 1)
        records.append(Record(sheet.key, ret.department, ret.file, name, r + 1, values, cells))
    for c, found_rows in extra_values.items():
        if found_rows:
            ret.findings.append(Finding(
                "extra-column", f"the column {rows[header][c]!r} is not part of the template; its "
                f"{len(found_rows)} value(s) are not in the master", file=ret.file, sheet=name,
                cell=a1(header + 1, c + 1), department=ret.department, rows=tuple(found_rows)))
    return records


def expand_inputs(inputs: list[str | Path]) -> list[tuple[Path, str]]:
    """Files and folders (recursively) -> (path, display name), sorted for a stable order.

    Mail sources (.zip, .eml, .mbox, .msg, Maildir, a ``collect`` folder) are opened by
    ``cascadebook.mail.collect``: their workbooks come back as e.g. "inbox.mbox › message 3 › x.xlsx".
    """
    from .mail.collect import expand_mail_source, is_mail_source

    found: list[tuple[Path, str]] = []
    for item in inputs:
        item = Path(item)
        if is_mail_source(item):
            found.extend(expand_mail_source(item, item.name))
        elif item.is_dir():
            for root, dirs, files in os.walk(item):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    full = Path(root) / name
                    shown = str(full.relative_to(item.parent))
                    found.extend(expand_mail_source(full, shown) if is_mail_source(full) else [(full, shown)])
        else:
            found.append((item, item.name))
    return sorted(set(found), key=lambda pair: pair[1])
