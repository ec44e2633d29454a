"""Look at a returned file before any parser does: its format, its identity properties, and traps.

python-calamine inflates zip parts and allocates a sheet's whole used range by itself, so whatever
could exhaust memory or kill the process is refused here first, by bounded reads of the package:

* **zip bombs**: by *declared* sizes (all parts, and the ratio of one part) before anything is
  inflated, then by *actual* size while inflating, with a bounded ``zlib`` stream, every part that
  calamine or cascadebook opens: a part that inflates past its declared size (a lying header) or
  past ``MAX_PART`` is refused. Those parts are the package's and the workbook's relationships, the
  workbook, the shared strings and the styles (calamine reads them on open; it matches part names case-blind,
  so they are picked case-blind here too), the document properties read below, every part a sheet
  of the workbook points at (whatever its name or extension) and every part under
  ``xl/worksheets/``. Nothing else is inflated by anyone -- calamine opens a sheet's part only when
  that sheet is read, and theme, ``docProps/app.xml``, ``[Content_Types].xml``, drawings, printer
  settings and the like never -- so for those parts a lying header can exhaust nothing, and their
  declared sizes (checked for every part) are all that is checked: inflating them only to throw
  them away cost time on every file and protected no reader;
* **XML entity expansion** ("billion laughs"): a part (of those inflated) whose prolog declares a
  DTD or entities is refused (calamine does not expand entities -- it stops with "unrecognized
  entity" -- but such a file is never a spreadsheet program's output, so it gets a clear finding);
* **a huge used range**: calamine allocates rows x columns cells (32 bytes each) from the top-left
  corner to the last cell, so one value in ``XFD1048576`` of a 1 KB file asks for 512 GB and aborts
  the process (measured with python-calamine 0.9). Cell references are scanned and a sheet whose
  range exceeds ``MAX_CELLS`` is reported as too large and never handed to calamine -- unless the
  range is made large only by *stray* values far from the rest (one typed in ``A1048576`` or
  ``XFD5``): those are left out of the sheet calamine reads and named (``SheetScan.strays``), so a
  plan is not dropped whole for one stray keystroke (see ``_leave_out_strays``);
* duplicate part names (two parsers could read different parts) and zip-level encryption.

It also records what calamine cannot see: which formula cells have no cached value.

What calamine reads is what was checked here: an xlsx is handed to calamine as a stored zip of the
parts it opens, taken from this inflate (``Package.for_calamine``), so no part is inflated twice, no
zip trick can show calamine other bytes, and each sheet comes without the text of the formulas that
have a cached value (``FORMULA_WITH_VALUE``: calamine reads the ``<v>`` and skips the ``<f>``; a
template's sheets are three-quarters live-check formulas, most of calamine's time). Should a
calamine version want a part that is not there, intake/reader.py lets it read the file itself (as before).

Cost on an ordinary return: one inflate of the parts above, one pass over each sheet taking those
formulas out, and four searches over what is left of a sheet read (~1 ms for a 750 KB sheet). The
fast checks are conclusive only in the one case they recognise -- on a sheet with the usual
unprefixed root, every cell start tag begins exactly ``<c r="A1"`` with a reference within
``A1:AZ9999`` and no tag has a second ``r`` (``SUSPECT_CELL``, ``PREFIXED_CELL`` and ``SECOND_REF``
find any other cell start: no ``r``, another attribute first, a far or odd reference, a prefixed
``<x:c``, a second ``r``), and every formula ends directly followed by its ``<v>``
(``SUSPECT_FORMULA``); anything else runs the exact scans, over the sheet as it came.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import BinaryIO

from cascadebook.intake.sheet_scan import (
    FORMULA_WITH_VALUE,
    MAX_CELLS,
    MAX_STRAYS,
    ODS_ATTR,
    ODS_TAG,
    PROLOG_BYTES,
    ROOT_START,
    SMALL_COLS,
    SMALL_ROWS,
    SheetScan,
    ods_strays,
    scan_sheet,
    unescape_xml,
    xml_int,
)
from cascadebook.kinds import META_PROPERTY_PREFIX

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ENCRYPTED_MARK = "EncryptedPackage".encode("utf-16-le")
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"

MAX_UNCOMPRESSED = 200 * 1024 * 1024  # declared size of all parts together
MAX_PART = 100 * 1024 * 1024  # actual inflated size of one part
MAX_RATIO = 200  # declared uncompressed/compressed ratio of one part, checked for parts over 1 MB

# What calamine opens when a workbook is opened (it matches names case-blind), and what is read here.
CALAMINE_OPENS = frozenset(
    {"_rels/.rels", "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/sharedstrings.xml", "xl/styles.xml"}
)
OPENED_PARTS = CALAMINE_OPENS | {"docprops/core.xml", "docprops/custom.xml"}

DTD = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY)", re.I)


class Refused(Exception):
    """The file is not handed to a parser; ``code`` is the finding to report."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Package:
    kind: str  # "xlsx" or "ods"
    props: dict[str, str] = field(default_factory=dict)  # modified, meta:<field>
    macros: bool = False
    sheets: dict[str, SheetScan] = field(default_factory=dict)  # by sheet name, scanned
    largest: int = 0  # the largest range of any sheet part, for names that could not be mapped
    pending: dict[str, tuple[str, bytes, bytes]] = field(default_factory=dict)  # name -> (part, xml, lean xml)
    unmapped: list[tuple[str, bytes, bytes]] = field(default_factory=list)  # sheet parts no name points at
    calamine_parts: dict[str, bytes] = field(default_factory=dict)  # xlsx: what calamine is given to read

    def scan(self, name: str) -> SheetScan | None:
        """The scan of one sheet, done on first use (xlsx sheets that are never read are never scanned)."""
        if name not in self.sheets and name in self.pending:
            scan = self.sheets[name] = scan_sheet(name, *self.pending.pop(name), strays=True)
            if scan.trimmed is not None:  # calamine is given the sheet without its stray values
                self.calamine_parts[scan.part], scan.trimmed = scan.trimmed, None
                self._name_shared_strings(scan)
        return self.sheets.get(name)

    def _name_shared_strings(self, scan: SheetScan) -> None:
        """Stray values that are shared strings (``t="s"``, kept as ``"\\x00<index>"``) as their text."""
        wanted = {int(text[1:]) for _, _, text in scan.strays if text.startswith("\x00")}
        if not wanted:
            return
        data = next((v for k, v in self.calamine_parts.items() if k.lower() == "xl/sharedstrings.xml"), b"")
        try:
            items = [el for el in _xml(data) if _local(el.tag) == "si"] if data else []
        except Exception:  # noqa: BLE001 - a broken shared strings part is calamine's to report
            items = []
        texts = {
            i: "".join(t.text or "" for t in items[i].iter() if _local(t.tag) == "t") for i in wanted if i < len(items)
        }
        scan.strays = [
            (r, c, texts.get(int(t[1:]), f"(shared string {t[1:]})") if t.startswith("\x00") else t)
            for r, c, t in scan.strays
        ]

    def for_calamine(self) -> bytes:
        """The xlsx package calamine reads: the parts it opens, exactly as checked here, in a zip that
        is stored (not deflated), each sheet without the text of its formulas that have a cached value.

        calamine reads a cell's cached ``<v>`` and skips its ``<f>``, so the values are the same (tested
        against calamine on the original files); calamine inflates nothing and reads no byte this module
        has not looked at. A template's sheets are three-quarters live-check formulas: without them
        calamine reads a sheet about three times faster.
        """
        return _stored_zip(self.calamine_parts)

    def cells(self, name: str) -> int:
        scan = self.scan(name)
        if scan is not None:
            return scan.cells
        for other in list(self.pending):  # a name the package does not map: assume the worst of all
            self.scan(other)
        while self.unmapped:
            self.largest = max(self.largest, scan_sheet("", *self.unmapped.pop()).cells)
        return max([self.largest] + [s.cells for s in self.sheets.values()])


def inspect(path: str | Path) -> Package:
    """Check the file and describe its package; raise :class:`Refused` for anything unsafe or unusable."""
    path = Path(path)
    size = path.stat().st_size
    if size == 0:
        raise Refused("file-unreadable", "the file is empty (0 bytes)")
    with path.open("rb") as handle:
        head = handle.read(8)
        if head == OLE_MAGIC:
            if _contains(handle, ENCRYPTED_MARK):
                raise Refused("file-encrypted", "the workbook is protected with a password")
            raise Refused("legacy-format", "the workbook is in the legacy .xls format (or another old Office file)")
        if not head.startswith(b"PK"):
            raise Refused("file-unreadable", "the file is not a workbook (not a zip package)")
        try:
            archive = zipfile.ZipFile(handle)
            infos = archive.infolist()
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
            raise Refused("file-unreadable", f"the file is damaged or truncated ({exc})") from None
        return _package(path, handle, infos)


def _contains(handle, mark: bytes, chunk: int = 1 << 20) -> bool:
    handle.seek(0)
    tail = b""
    while True:
        block = handle.read(chunk)
        if not block:
            return False
        if mark in tail + block:
            return True
        tail = block[-len(mark) :]


def _package(path: Path, handle: BinaryIO, infos: list[zipfile.ZipInfo]) -> Package:
    names = [i.filename.lower() for i in infos]  # case-blind: calamine finds parts by case-blind names
    if len(set(names)) != len(names):
        dup = next(i.filename for i, n in zip(infos, names) if names.count(n) > 1)
        raise Refused("file-refused", f"the package has two parts named {dup!r}; refused as crafted")
    total = sum(i.file_size for i in infos)
    if total > MAX_UNCOMPRESSED:
        raise Refused(
            "file-refused",
            f"the file declares {total // (1024 * 1024)} MB of content "
            f"(the limit is {MAX_UNCOMPRESSED // (1024 * 1024)} MB); refused as a zip bomb",
        )
    for info in infos:
        if info.file_size > 1024 * 1024 and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise Refused(
                "file-refused",
                f"the part {info.filename!r} would inflate "
                f"{info.file_size // max(info.compress_size, 1)} times; refused as a zip bomb",
            )
    by_name = {i.filename: i for i in infos}
    if "xl/workbook.bin" in by_name:
        raise Refused("legacy-format", "the workbook is in the binary .xlsb format")
    if "content.xml" in by_name or "mimetype" in by_name:
        kind = "ods"
    elif "xl/workbook.xml" in by_name:
        kind = "xlsx"
    else:
        raise Refused("file-unreadable", "the file is a zip package but not a spreadsheet")
    package = Package(kind)
    parts: dict[str, bytes] = {}
    if kind == "ods":
        _inflate_parts(
            handle,
            [i for i in infos if i.filename.lower().endswith((".xml", ".rels")) or i.filename == "mimetype"],
            parts,
        )
    else:  # the parts calamine opens on open and the ones read here; then the sheets' parts
        _inflate_parts(handle, [i for i in infos if i.filename.lower() in OPENED_PARTS], parts)
        sheet_parts = _sheet_parts(parts)
        _inflate_parts(
            handle,
            [
                i
                for i in infos
                if i.filename not in parts
                and (
                    i.filename.lower() in sheet_parts
                    or (
                        i.filename.lower().startswith("xl/worksheets/")
                        and i.filename.lower().endswith((".xml", ".rels"))
                    )
                )
            ],
            parts,
        )
    if kind == "ods":
        manifest = parts.get("META-INF/manifest.xml", b"")
        if b"encryption-data" in manifest:
            raise Refused("file-encrypted", "the spreadsheet is protected with a password")
        if parts.get("mimetype", ODS_MIMETYPE).strip() != ODS_MIMETYPE:
            raise Refused("file-unreadable", "the file is an OpenDocument file but not a spreadsheet")
        if "meta.xml" in parts:
            package.props.update(_ods_properties(parts["meta.xml"]))
        trimmed = _scan_ods(parts.get("content.xml", b""), package)
        if trimmed is not None:  # calamine reads the spreadsheet without its stray values
            package.calamine_parts = (
                {"mimetype": parts.get("mimetype", ODS_MIMETYPE)}
                | {name: data for name, data in parts.items() if name != "mimetype"}
                | {"content.xml": trimmed}
            )
    else:
        package.macros = "xl/vbaProject.bin" in by_name or path.suffix.lower() in (".xlsm", ".xltm")
        if "docProps/core.xml" in parts:
            package.props.update(_core_properties(parts["docProps/core.xml"]))
        if "docProps/custom.xml" in parts:
            package.props.update(_custom_properties(parts["docProps/custom.xml"]))
        _scan_xlsx(parts, sheet_parts, package)
    return package


def _inflate_parts(handle: BinaryIO, infos: list[zipfile.ZipInfo], parts: dict[str, bytes]) -> None:
    for info in infos:
        data = _inflate(handle, info)
        _check_prolog(info.filename, data)
        parts[info.filename] = data


def _inflate(handle: BinaryIO, info: zipfile.ZipInfo) -> bytes:
    """One part, inflated with a bounded stream: never more than it declares, never more than MAX_PART.

    Read by hand rather than with ``zipfile``'s ``open``: its stream stops at the *declared* size
    and reports a part that inflates past it as a bad CRC, so a lying header (a zip bomb) could not
    be told from a damaged file; here the inflate goes one byte past the declared size to see."""
    if info.flag_bits & 0x1:
        raise Refused("file-encrypted", f"the part {info.filename!r} is encrypted")
    handle.seek(info.header_offset)
    header = handle.read(30)
    if len(header) < 30 or header[:4] != b"PK\x03\x04":
        raise Refused("file-unreadable", "the file is damaged or truncated (bad part header)")
    name_len, extra_len = struct.unpack("<HH", header[26:30])
    handle.seek(info.header_offset + 30 + name_len + extra_len)
    cap = min(info.file_size, MAX_PART)
    remaining = info.compress_size
    if info.compress_type == 0:
        out = handle.read(min(remaining, cap + 1))
        if len(out) < min(remaining, cap + 1):
            raise Refused("file-unreadable", "the file is damaged or truncated")
    elif info.compress_type == 8:
        inflater = zlib.decompressobj(-15)
        pieces: list[bytes] = []  # an ordinary part comes out in one piece, used as it is (no copy)
        size = 0
        while remaining > 0 and not inflater.eof and size <= cap:
            raw = handle.read(min(1 << 20, remaining))
            if not raw:
                raise Refused("file-unreadable", "the file is damaged or truncated")
            remaining -= len(raw)
            while raw and not inflater.eof:
                try:
                    piece = inflater.decompress(raw, cap - size + 1)
                except zlib.error as exc:
                    raise Refused("file-unreadable", f"the file is damaged ({exc})") from None
                pieces.append(piece)
                size += len(piece)
                if size > cap:
                    break
                raw = inflater.unconsumed_tail
        out = pieces[0] if len(pieces) == 1 else b"".join(pieces)
    else:
        raise Refused("file-unreadable", f"the part {info.filename!r} uses an unsupported compression")
    if len(out) > cap:
        if cap < MAX_PART:
            raise Refused(
                "file-refused",
                f"the part {info.filename!r} declares {info.file_size} bytes but "
                "inflates to more; refused as a zip bomb",
            )
        raise Refused(
            "file-refused",
            f"the part {info.filename!r} inflates to more than {MAX_PART // (1024 * 1024)} MB; refused as a zip bomb",
        )
    if zlib.crc32(out) != info.CRC or len(out) != info.file_size:
        raise Refused("file-unreadable", f"the file is damaged (the part {info.filename!r} fails its checksum)")
    return out


def _check_prolog(name: str, data: bytes) -> None:
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in data[:200]:
        # UTF-16 with a byte-order mark, or without one: big-endian when it starts with a zero byte ("\0<")
        codec = (
            "utf-16" if data[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-16-be" if data[:1] == b"\x00" else "utf-16-le"
        )
        head = data[:PROLOG_BYTES].decode(codec, errors="replace").encode("utf-8", errors="replace")
    elif data.find(b"<!", 0, PROLOG_BYTES) < 0:  # the usual case, found without copying the head
        return
    else:
        head = data[:PROLOG_BYTES]
    if b"<!" not in head:
        return
    root = ROOT_START.search(head)
    prolog = head[: root.start()] if root else head
    if DTD.search(prolog):
        raise Refused(
            "file-refused", f"the part {name!r} declares XML entities (a DTD); refused, entities are never expanded"
        )


# ---- document properties -------------------------------------------------------------------


def _xml(data: bytes):
    from defusedxml.ElementTree import fromstring  # never expands entities

    return fromstring(bytes(data))


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def normalise_time(text: str) -> str:
    """An ISO timestamp as UTC ``YYYY-MM-DDTHH:MM:SS+00:00`` (naive times are taken as UTC)."""
    text = (text or "").strip()
    if not text:
        return ""
    try:
        stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=timezone.utc)
    return stamp.astimezone(timezone.utc).replace(microsecond=0).isoformat()


def _core_properties(data: bytes) -> dict[str, str]:
    for el in _xml(data):
        if _local(el.tag) == "modified" and el.text:
            return {"modified": normalise_time(el.text)}
    return {}


def _custom_properties(data: bytes) -> dict[str, str]:

    found = {}
    for prop in _xml(data):
        name = prop.get("name") or ""
        if name.startswith(META_PROPERTY_PREFIX) and len(prop):
            found["meta:" + name[len(META_PROPERTY_PREFIX) :]] = (prop[0].text or "").strip()
    return found


def _ods_properties(data: bytes) -> dict[str, str]:

    found = {}
    for el in _xml(data).iter():
        tag = _local(el.tag)
        if tag == "date" and el.text:
            found["modified"] = normalise_time(el.text)
        elif tag == "user-defined":
            name = next((v for k, v in el.attrib.items() if _local(k) == "name"), "")
            if name.startswith(META_PROPERTY_PREFIX):
                found["meta:" + name[len(META_PROPERTY_PREFIX) :]] = (el.text or "").strip()
    return found


# ---- used ranges and formulas ----------------------------------------------------------------


def _sheet_parts(parts: dict[str, bytes]) -> dict[str, str]:
    """Worksheet part (lower case) -> sheet name, from the workbook and its relationships, the way
    calamine resolves them (a target is under ``xl/`` unless it starts with ``/xl/`` or ``xl/``)."""
    try:
        book = _xml(parts["xl/workbook.xml"])
        rels = _xml(parts.get("xl/_rels/workbook.xml.rels", b"<Relationships/>"))
    except Exception:  # noqa: BLE001 - a broken workbook.xml is calamine's to report
        return {}
    targets = {}
    for rel in rels:
        target = rel.get("Target") or ""
        target = target[1:] if target.startswith("/xl/") else target if target.startswith("xl/") else "xl/" + target
        targets[rel.get("Id")] = target.lower()
    found = {}
    for el in book.iter():
        if _local(el.tag) == "sheet":
            rid = next((v for k, v in el.attrib.items() if _local(k) == "id"), None)
            if rid in targets:
                found[targets[rid]] = el.get("name") or ""
    return found


def _scan_xlsx(parts: dict[str, bytes], names: dict[str, str], package: Package) -> None:
    for part, data in parts.items():
        key = part.lower()
        if key in names or key.startswith("xl/worksheets/"):
            lean = FORMULA_WITH_VALUE.sub(b"", data)
            package.calamine_parts[part] = lean
            if key in names:
                package.pending[names[key]] = (part, data, lean)
            else:
                package.unmapped.append((part, data, lean))
        elif key in CALAMINE_OPENS:
            package.calamine_parts[part] = data


def _stored_zip(parts: dict[str, bytes]) -> bytes:
    """A zip of ``parts`` as they are (method 0, stored): nothing for calamine to inflate."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, data in parts.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data)
    return buffer.getvalue()


def _scan_ods(content: bytes, package: Package, strays: bool = True) -> bytes | None:
    """Table extents of content.xml, counting repeated rows and cells the way calamine expands them.

    With ``strays``, values far outside the rest of a table (as ``_leave_out_strays`` defines them)
    are left out: the content.xml calamine should read, with each stray cell made an empty cell of
    the same width (cells and rows are placed by position in ODS), is returned; None when there is none.
    """
    scan: SheetScan | None = None
    row = col = 0
    row_repeat = 1
    box = [0, 0]  # last row and column of the values within A1:AZ9999
    outside: list[tuple[int, int, int, int, re.Match]] = []  # values reaching beyond it: rows, columns, tag
    edits: list[tuple[int, int, bytes]] = []  # (start, end, replacement) in content

    def close(scan: SheetScan) -> None:
        if strays and outside and (scan.rows > SMALL_ROWS or scan.cols > SMALL_COLS):
            edits.extend(ods_strays(scan, box, outside, content))
        package.sheets[scan.name] = scan
        package.largest = max(package.largest, scan.cells)

    for m in ODS_TAG.finditer(content):
        closing, tag, attrs, empty = m.groups()
        if tag == b"table":
            if closing:
                if scan is not None:
                    close(scan)
                scan = None
            else:
                values = dict(ODS_ATTR.findall(attrs))
                name = values.get(b"table:name", b"").decode("utf-8", "replace")
                scan = SheetScan(unescape_xml(name), "content.xml")
                row = 0
                box, outside = [0, 0], []
        elif scan is None:
            continue
        elif tag == b"table-row":
            if closing:
                row += row_repeat
            else:
                values = dict(ODS_ATTR.findall(attrs))
                row_repeat = xml_int(values.get(b"table:number-rows-repeated"))
                col = 0
                if empty:
                    row += row_repeat
        elif not closing:  # a cell
            values = dict(ODS_ATTR.findall(attrs))
            repeat = xml_int(values.get(b"table:number-columns-repeated"))
            has_value = b"office:value-type" in values or not empty
            if has_value:
                scan.rows = max(scan.rows, row + row_repeat)
                scan.cols = max(scan.cols, col + repeat)
                if strays:
                    if row + row_repeat <= SMALL_ROWS and col + repeat <= SMALL_COLS:
                        box[0], box[1] = max(box[0], row + row_repeat), max(box[1], col + repeat)
                    elif len(outside) <= MAX_STRAYS + MAX_CELLS // SMALL_COLS:
                        outside.append((row + 1, row + row_repeat, col + 1, col + repeat, m))
                    else:  # too many values out there to be strays: the table is left as it is
                        box[0] = box[1] = MAX_CELLS
            if b"table:formula" in values and b"office:value-type" not in values:
                for r in range(row + 1, row + 1 + min(row_repeat, 1000)):
                    for c in range(col + 1, col + 1 + min(repeat, 100)):
                        scan.uncached.add((r, c))
            col += repeat
    if scan is not None:
        close(scan)
    if not edits:
        return None
    pieces, at = [], 0
    for begin, finish, replacement in sorted(edits):
        pieces += (content[at:begin], replacement)
        at = finish
    trimmed = b"".join(pieces) + content[at:]
    check = Package("ods")
    _scan_ods(trimmed, check, strays=False)
    if check.largest > MAX_CELLS:  # something still reaches far: as it was, too large
        for scan in package.sheets.values():
            scan.stray_count, scan.strays, scan.stray_rows = 0, [], ()
        package.largest = max(package.largest, check.largest)
        return None
    return trimmed
