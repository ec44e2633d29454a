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
calamine version want a part that is not there, returns.py lets it read the file itself (as before).

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

import re
import struct
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from cascadebook.kinds import META_PROPERTY_PREFIX
from cascadebook.xlsx.cells import a1, parse_a1

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ENCRYPTED_MARK = "EncryptedPackage".encode("utf-16-le")
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"

MAX_UNCOMPRESSED = 200 * 1024 * 1024  # declared size of all parts together
MAX_PART = 100 * 1024 * 1024  # actual inflated size of one part
MAX_RATIO = 200  # declared uncompressed/compressed ratio of one part, checked for parts over 1 MB
MAX_CELLS = 2_000_000  # rows x columns of one sheet's used range (calamine: 32 bytes per cell)
PROLOG_BYTES = 64 * 1024  # a part's XML prolog must end (its root element start) within this
SMALL_ROWS, SMALL_COLS = 9_999, 52  # a sheet whose references stay within A1:AZ9999 needs no exact scan
# A value beyond row 9,999 or column AZ is *stray* when it is more than STRAY_ROW_GAP rows below (or
# STRAY_COL_GAP columns right of) the nearest value above (left of) it that belongs to the plan: it is
# left out of what calamine reads and named in a finding. Values within A1:AZ9999 are never stray.
STRAY_ROW_GAP, STRAY_COL_GAP = 1_000, 26
STRAYS_KEPT = 100  # stray values kept with their text for the finding (all are counted)
MAX_STRAYS = 100_000  # more values than this far from the plan: not strays but a sheet too large to read

# What calamine opens when a workbook is opened (it matches names case-blind), and what is read here.
CALAMINE_OPENS = frozenset(
    {"_rels/.rels", "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/sharedstrings.xml", "xl/styles.xml"}
)
OPENED_PARTS = CALAMINE_OPENS | {"docprops/core.xml", "docprops/custom.xml"}

_REF = rb"""\br\s*=\s*["']\$?([A-Za-z]{1,4})\$?([0-9]{1,9})"""
ALL_REFS = re.compile(_REF)
# A cell start tag that does not begin exactly ``<c r="A1"`` with a reference within A1:AZ9999
# (SMALL_COLS, SMALL_ROWS), a prefixed one (``<x:c``: calamine goes by local names), and an ``r``
# attribute anywhere but first in a cell or a row (calamine takes the last of two ``r``, wherever the
# tag ends): finding none of them proves a plain sheet small. Each pattern starts with a literal.
SUSPECT_CELL = re.compile(rb'<c(?! r="A?[A-Z][0-9]{1,4}")[\s/>]')
PREFIXED_CELL = re.compile(rb":c[\s/>]")
SECOND_REF = re.compile(rb"""r(?<=[\s"']r)(?<!<c r)(?<!<row r)\s*=""")
# A formula end tag not directly followed by ``<v>``, or a formula element closed on itself
# (``<f t="shared" si="0"/>``): its absence proves that every formula of a plain sheet has its cached
# value right after it (Excel, xlsxwriter, LibreOffice). Prefixed ``<xm:f>`` are Excel's own (data
# validations, conditional formats in extLst), not cells' formulas.
SUSPECT_FORMULA = re.compile(rb"""</f(?:>(?!<v>)|\s)|<f(?:\s(?:[^"'>/]++|"[^"]*+"|'[^']*+')*+)?/>""")
# A formula directly followed by its cached value (not right after another formula): calamine reads the
# value and only skips over the formula's text -- which is most of a template's sheet (the live checks)
# and most of calamine's time. Sheets are handed to calamine without these (see Package.for_calamine).
FORMULA_WITH_VALUE = re.compile(rb"""<f(?<!</f><f)(?:\s(?:[^"'>/]++|"[^"]*+"|'[^']*+')*+)?>[^<]*+</f>(?=<v>)""")
CELL_WITHOUT_REF = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?c(?=[\s/>])(?![^>]*\br\s*=)")
ROW_REF = re.compile(rb"""<(?:[A-Za-z_][\w.-]*:)?row\s[^>]*?\br\s*=\s*["']([0-9]{1,9})""")
ROW_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row[\s/>]")
FORMULA = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s/>]")
CELL_START = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?c\s[^>]*>")
CACHED_VALUE = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?v>\s*[^<\s]|<(?:[A-Za-z_][\w.-]*:)?is>")
DTD = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY)", re.I)
ROOT_START = re.compile(rb"<[A-Za-z_]")

# One cell element, whole: its prefix, attributes, and content (None when it closes itself).
CELL_ELEMENT = re.compile(
    rb"""<((?:[A-Za-z_][\w.-]*:)?)c(\s(?:[^"'>/]|/(?!>)|"[^"]*+"|'[^']*+')*+)?"""
    rb"""(?:/>|>((?:[^<]|<(?!/?(?:[A-Za-z_][\w.-]*:)?(?:c|row|sheetData)[\s/>]))*+)</\1c\s*>)""",
    re.S,
)  # a cell's content stops at the next cell, row or sheetData tag: linear on any input
CELL_TYPE = re.compile(rb"""\bt\s*=\s*["']([^"']*)""")
CELL_VALUE = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?v(?:\s[^>]*)?>([^<]*)<")
CELL_TEXT = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?t(?:\s[^>]*)?>([^<]*)<")
CELL_FORMULA = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f(?:\s[^>]*)?>([^<]*)<")
DIMENSION = re.compile(rb"<((?:[A-Za-z_][\w.-]*:)?)dimension\s[^>]*?/>")

ODS_TAG = re.compile(rb"<(/?)table:(table-row|table-cell|covered-table-cell|table)(?=[\s/>])([^>]*?)(/?)>")
ODS_ATTR = re.compile(rb"""([\w:.-]+)\s*=\s*["']([^"']*)["']""")


class Refused(Exception):
    """The file is not handed to a parser; ``code`` is the finding to report."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class SheetScan:
    """What the package says about one sheet before it is parsed."""

    name: str
    part: str
    rows: int = 0  # an upper bound of the last row calamine would allocate (1-based)
    cols: int = 0
    uncached: set[tuple[int, int]] = field(default_factory=set)  # (row, col) 1-based: formula, no value
    # Stray values left out of what calamine reads: how many, the first STRAYS_KEPT as (row, col,
    # text) in row order, their rows, and the region that is read (last row, last column).
    stray_count: int = 0
    strays: list[tuple[int, int, str]] = field(default_factory=list)
    stray_rows: tuple[int, ...] = ()
    region: tuple[int, int] = (0, 0)
    trimmed: bytes | None = None  # the sheet without them, until the package takes it for calamine

    @property
    def cells(self) -> int:
        return self.rows * self.cols


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
            scan = self.sheets[name] = _scan_sheet(name, *self.pending.pop(name), strays=True)
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
            self.largest = max(self.largest, _scan_sheet("", *self.unmapped.pop()).cells)
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
        import zipfile

        try:
            archive = zipfile.ZipFile(handle)
            infos = archive.infolist()
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
            raise Refused("file-unreadable", f"the file is damaged or truncated ({exc})") from None
        return _package(path, handle, archive, infos)


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


def _package(path: Path, handle, archive, infos) -> Package:
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


def _inflate_parts(handle, infos, parts: dict[str, bytes]) -> None:
    for info in infos:
        data = _inflate(handle, info)
        _check_prolog(info.filename, data)
        parts[info.filename] = data


def _inflate(handle, info) -> bytes:
    """One part, inflated with a bounded stream: never more than it declares, never more than MAX_PART."""
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


def _column_number(letters: bytes) -> int:
    number = 0
    for ch in letters.upper():
        number = number * 26 + ch - 64
    return number


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
    """A zip of ``parts`` as they are (method 0, stored)."""
    local: list[bytes] = []
    central: list[bytes] = []
    offset = 0
    for name, data in parts.items():
        encoded = name.encode("utf-8")
        flags = 0 if name.isascii() else 0x800  # UTF-8 names
        crc, size = zlib.crc32(data), len(data)
        header = (
            struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, flags, 0, 0, 0x21, crc, size, size, len(encoded), 0)
            + encoded
        )
        central.append(
            struct.pack(
                "<4sHHHHHHIIIHHHHHII",
                b"PK\x01\x02",
                20,
                20,
                flags,
                0,
                0,
                0x21,
                crc,
                size,
                size,
                len(encoded),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
            + encoded
        )
        local += (header, data)
        offset += len(header) + size
    directory = b"".join(central)
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(central), len(central), len(directory), offset, 0)
    return b"".join(local) + directory + end


def _scan_sheet(name: str, part: str, data: bytes, lean: bytes | None = None, strays: bool = False) -> SheetScan:
    """Used range and uncached formulas of one sheet part. The fast checks read ``lean`` (the part
    without FORMULA_WITH_VALUE: the same cell tags, and a suspicious formula wherever ``data`` has
    one); the exact scans read ``data``. With ``strays``, values far outside the rest are left out
    (``scan.trimmed`` is then the sheet calamine should read instead of ``lean``)."""
    lean = data if lean is None else lean
    scan = SheetScan(name, part)
    plain = _plain_root(data)
    scan.rows, scan.cols = _extent(data, plain, lean)
    if strays and (scan.rows > SMALL_ROWS or scan.cols > SMALL_COLS):
        _leave_out_strays(scan, lean)
    if _may_lack_values(data, plain, lean):
        scan.uncached = _uncached_formulas(data)
        if scan.stray_count:
            scan.uncached = {(r, c) for r, c in scan.uncached if r <= scan.region[0] and c <= scan.region[1]}
    return scan


def _cell_ref(attrs: bytes | None) -> tuple[int, int] | None:
    ref = ALL_REFS.search(attrs) if attrs else None
    if ref is None:
        return None
    letters, digits = ref.groups()
    return int(digits), _column_number(letters) if len(letters) <= 3 else 16385


def _cell_text(attrs: bytes | None, body: bytes | None) -> str | None:
    """What a cell element shows, as text (a shared string as ``"\\x00<index>"``); None when it shows
    nothing (no value, blank text, and no formula)."""
    if not body:
        return None
    kind = CELL_TYPE.search(attrs or b"")
    kind = kind.group(1) if kind else b"n"
    value = CELL_VALUE.search(body)
    if kind == b"inlineStr" or (value is None and b"is>" in body):
        text = "".join(_unescape(t.decode("utf-8", "replace")) for t in CELL_TEXT.findall(body))
    elif value is not None and value.group(1).strip():
        text = _unescape(value.group(1).decode("utf-8", "replace")).strip()
        if kind == b"s" and text.isdigit():
            return "\x00" + text
        if kind == b"b":
            return "TRUE" if text in ("1", "true") else "FALSE"
    else:
        formula = CELL_FORMULA.search(body)
        return "=" + _unescape(formula.group(1).decode("utf-8", "replace")) if formula else None
    return text if text.strip() else None


def _reach(spans: list[tuple[int, int]], start: int, gap: int) -> int:
    """The end of the last of the sorted ``spans`` (first, last) that no gap of more than ``gap`` separates
    from 1..``start``."""
    last = 0
    for first, end in spans:
        if first > max(start, last + gap):
            break
        last = max(last, end)
    return last


def _leave_out_strays(scan: SheetScan, lean: bytes) -> None:
    """Find the values far outside the rest of the sheet, and the sheet without them.

    The region read holds every value within A1:AZ9999 and, beyond it, every value no more than
    STRAY_ROW_GAP rows below (STRAY_COL_GAP columns right of) the nearest value of the region: a
    plan and whatever was typed or pasted next to it. The values left are stray: a keystroke in
    ``A1048576``, a value in ``XFD5``. A region over MAX_CELLS (a sheet genuinely filled that far),
    or more than MAX_STRAYS values far from it, is left as it is, too large; so is a sheet with a
    cell calamine places by position (no reference). Cells outside the region, stray values and
    empty cells alike, are taken out of the sheet calamine reads (its ``<dimension>`` set to the
    region); the extent of what is left is then scanned again, so a crafted cell that this pass
    reads otherwise than calamine still counts.
    """
    from array import array

    if CELL_WITHOUT_REF.search(lean):
        return
    rows, cols, starts = array("q"), array("q"), array("q")
    row_reach, col_reach, top, left, far = SMALL_ROWS, SMALL_COLS, 0, 0, 0
    for m in CELL_ELEMENT.finditer(lean):
        if not m.group(3) or _cell_text(m.group(2), m.group(3)) is None:
            continue
        ref = _cell_ref(m.group(2))
        if ref is None:
            return
        r, c = ref
        rows.append(r)
        cols.append(c)
        starts.append(m.start())
        if r <= row_reach and c <= col_reach:  # in the region as far as seen so far: a lower bound of it
            row_reach, col_reach = max(row_reach, r + STRAY_ROW_GAP), max(col_reach, c + STRAY_COL_GAP)
            top, left = max(top, r), max(left, c)
        else:  # far from it so far (rows come in order: these are the strays, but for a few)
            if r <= row_reach:
                row_reach = max(row_reach, r + STRAY_ROW_GAP)
            far += 1
        if len(rows) % 4096 == 0 and (top * left > MAX_CELLS or far > MAX_STRAYS):  # genuinely too large
            return
    last_row = _reach([(r, r) for r in sorted(set(rows))], SMALL_ROWS, STRAY_ROW_GAP)
    last_col = _reach(
        [(c, c) for c in sorted({c for r, c in zip(rows, cols) if r <= last_row})], SMALL_COLS, STRAY_COL_GAP
    )
    stray = [i for i in range(len(rows)) if rows[i] > last_row or cols[i] > last_col]
    if not stray or len(stray) > MAX_STRAYS:
        return
    kept = [i for i in range(len(rows)) if rows[i] <= last_row and cols[i] <= last_col]
    region = (max((rows[i] for i in kept), default=1), max((cols[i] for i in kept), default=1))
    if region[0] * region[1] > MAX_CELLS:
        return

    def inside(m: re.Match) -> bytes:
        ref = _cell_ref(m.group(2))
        return m.group(0) if ref is None or (ref[0] <= region[0] and ref[1] <= region[1]) else b""

    trimmed = CELL_ELEMENT.sub(inside, lean)
    trimmed = DIMENSION.sub(
        lambda m: b'<%sdimension ref="A1:%s"/>' % (m.group(1), a1(*region).encode()), trimmed, count=1
    )
    extent = _exact_extent(trimmed)
    if extent[0] * extent[1] > MAX_CELLS:  # something still reaches far (a crafted cell): too large after all
        return
    stray.sort(key=lambda i: (rows[i], cols[i]))
    scan.rows, scan.cols = extent
    scan.stray_count = len(stray)
    scan.stray_rows = tuple(sorted({rows[i] for i in stray}))
    for i in stray[:STRAYS_KEPT]:
        m = CELL_ELEMENT.match(lean, starts[i])
        scan.strays.append((rows[i], cols[i], _cell_text(m.group(2), m.group(3)) or ""))
    scan.region = region
    scan.trimmed = trimmed


def _plain_root(data: bytes) -> bool:
    """Whether the sheet uses the usual unprefixed element names (what every spreadsheet program writes)."""
    root = ROOT_START.search(data, 0, PROLOG_BYTES)
    return root is not None and data.startswith(b"<worksheet", root.start())


def _extent(data: bytes, plain: bool | None = None, lean: bytes | None = None) -> tuple[int, int]:
    """An upper bound of (last row, last column) of the cells calamine would place."""
    if plain is None:
        plain = _plain_root(data)
    lean = data if lean is None else lean  # fast path: three searches, conclusive only when they find nothing
    if plain and not SUSPECT_CELL.search(lean) and not PREFIXED_CELL.search(lean) and not SECOND_REF.search(lean):
        return SMALL_ROWS, SMALL_COLS
    return _exact_extent(data)


def _exact_extent(data: bytes) -> tuple[int, int]:
    rows = cols = 0
    for i, m in enumerate(ALL_REFS.finditer(data)):
        letters, digits = m.groups()
        rows = max(rows, int(digits))
        cols = max(cols, _column_number(letters) if len(letters) <= 3 else 16384)
        if i % 4096 == 4095 and rows * cols > MAX_CELLS:  # already too large: no need to read on
            return rows, cols
    without_ref = len(CELL_WITHOUT_REF.findall(data))
    if without_ref:  # calamine places such cells one after another
        rows = max([rows, len(ROW_TAG.findall(data))] + [int(r) for r in ROW_REF.findall(data)])
        cols += without_ref
    return rows, cols


def _may_lack_values(data: bytes, plain: bool, lean: bytes | None = None) -> bool:
    """False when no formula can be without its cached value (the exact scan is then not needed)."""
    if plain:  # one search: a formula not directly followed by <v>, or one closed on itself
        return SUSPECT_FORMULA.search(data if lean is None else lean) is not None
    return FORMULA.search(data) is not None


def _uncached_formulas(data: bytes) -> set[tuple[int, int]]:
    """The exact scan: each formula's cell, and whether a value follows the formula within it."""
    found = set()
    for m in FORMULA.finditer(data):
        start, cell = m.start(), None
        for _ in range(4):  # the cell's start tag is right before its <f> (perhaps after <is> or so)
            start = data.rfind(b"<", 0, start)
            if start < 0:
                break
            cell = CELL_START.match(data, start)
            if cell is not None:
                break
        if cell is None:
            continue
        ref = ALL_REFS.search(cell.group(0))
        end = data.find(b"c>", m.end())
        if ref is None or end < 0:
            continue
        if not CACHED_VALUE.search(data, m.end(), end):
            found.add(parse_a1((ref.group(1) + ref.group(2)).decode()))
    return found


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
            edits.extend(_ods_strays(scan, box, outside, content))
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
                scan = SheetScan(_unescape(name), "content.xml")
                row = 0
                box, outside = [0, 0], []
        elif scan is None:
            continue
        elif tag == b"table-row":
            if closing:
                row += row_repeat
            else:
                values = dict(ODS_ATTR.findall(attrs))
                row_repeat = _int(values.get(b"table:number-rows-repeated"))
                col = 0
                if empty:
                    row += row_repeat
        elif not closing:  # a cell
            values = dict(ODS_ATTR.findall(attrs))
            repeat = _int(values.get(b"table:number-columns-repeated"))
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


def _ods_strays(scan: SheetScan, box: list[int], outside: list, content: bytes) -> list[tuple[int, int, bytes]]:
    """The stray values of one table (see ``_leave_out_strays``) as edits making each an empty cell;
    the scan gets their count, names and rows, and the extent of the rest."""
    row_spans = sorted([(1, box[0])] + [(r0, r1) for r0, r1, _, _, _ in outside])
    last_row = _reach(row_spans, SMALL_ROWS, STRAY_ROW_GAP)
    col_spans = sorted([(1, box[1])] + [(c0, c1) for r0, _, c0, c1, _ in outside if r0 <= last_row])
    last_col = _reach(col_spans, SMALL_COLS, STRAY_COL_GAP)
    stray = [item for item in outside if item[0] > last_row or item[2] > last_col]
    kept = [item for item in outside if not (item[0] > last_row or item[2] > last_col)]
    region = (max([box[0]] + [i[1] for i in kept]) or 1, max([box[1]] + [i[3] for i in kept]) or 1)
    count = sum((r1 - r0 + 1) * (c1 - c0 + 1) for r0, r1, c0, c1, _ in stray)
    if not stray or region[0] * region[1] > MAX_CELLS or count > MAX_STRAYS:
        return []
    edits, named = [], []
    stray.sort(key=lambda item: (item[0], item[2]))
    rows: set[int] = set()
    for r0, r1, c0, c1, m in stray:
        tag = m.group(2)
        finish = m.end() if m.group(4) else content.find(b"</table:" + tag + b">", m.end())
        if finish < 0:
            return []
        inner = content[m.end() : finish]
        finish += 0 if m.group(4) else len(tag) + 9
        edits.append((m.start(), finish, b'<table:table-cell table:number-columns-repeated="%d"/>' % (c1 - c0 + 1)))
        rows.update(range(r0, r1 + 1) if r1 - r0 < 10_000 else (r0, r1))
        if len(named) < STRAYS_KEPT:
            text = _unescape(re.sub(rb"<[^>]*>", b"", inner).decode("utf-8", "replace")).strip()
            if not text:
                values = dict(ODS_ATTR.findall(m.group(3)))
                text = next(
                    (
                        values[k].decode("utf-8", "replace")
                        for k in (
                            b"office:value",
                            b"office:date-value",
                            b"office:time-value",
                            b"office:boolean-value",
                            b"office:string-value",
                        )
                        if k in values
                    ),
                    "",
                )
            named.append((r0, c0, text))
    scan.stray_count, scan.strays = count, named
    scan.uncached = {(r, c) for r, c in scan.uncached if r <= region[0] and c <= region[1]}
    scan.stray_rows = tuple(sorted(rows))
    scan.region = region
    scan.rows, scan.cols = region
    return edits


def _int(value: bytes | None) -> int:
    try:
        return max(1, int(value)) if value else 1
    except ValueError:
        return 1


def _unescape(text: str) -> str:
    from xml.sax.saxutils import unescape

    return unescape(text, {"&quot;": '"', "&apos;": "'"})
