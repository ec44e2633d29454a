"""Scanning one sheet's XML before calamine reads it: its used range, formulas without a cached value,
and stray values far from the plan (left out of what calamine reads, and named).

The package checks in :mod:`cascadebook.intake.gate` call these for every sheet that is read; they look
at bytes only, with bounded regular expressions (see the gate's docstring for the fast paths).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from cascadebook.xlsx.addresses import a1, parse_a1

MAX_CELLS = 2_000_000  # rows x columns of one sheet's used range (calamine: 32 bytes per cell)
PROLOG_BYTES = 64 * 1024  # a part's XML prolog must end (its root element start) within this
SMALL_ROWS, SMALL_COLS = 9_999, 52  # a sheet whose references stay within A1:AZ9999 needs no exact scan
# A value beyond row 9,999 or column AZ is *stray* when it is more than STRAY_ROW_GAP rows below (or
# STRAY_COL_GAP columns right of) the nearest value above (left of) it that belongs to the plan: it is
# left out of what calamine reads and named in a finding. Values within A1:AZ9999 are never stray.
STRAY_ROW_GAP, STRAY_COL_GAP = 1_000, 26
ROOT_START = re.compile(rb"<[A-Za-z_]")

STRAYS_KEPT = 100  # stray values kept with their text for the finding (all are counted)
MAX_STRAYS = 100_000  # more values than this far from the plan: not strays but a sheet too large to read
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


def _column_number(letters: bytes) -> int:
    number = 0
    for ch in letters.upper():
        number = number * 26 + ch - 64
    return number


def scan_sheet(name: str, part: str, data: bytes, lean: bytes | None = None, strays: bool = False) -> SheetScan:
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
        text = "".join(unescape_xml(t.decode("utf-8", "replace")) for t in CELL_TEXT.findall(body))
    elif value is not None and value.group(1).strip():
        text = unescape_xml(value.group(1).decode("utf-8", "replace")).strip()
        if kind == b"s" and text.isdigit():
            return "\x00" + text
        if kind == b"b":
            return "TRUE" if text in ("1", "true") else "FALSE"
    else:
        formula = CELL_FORMULA.search(body)
        return "=" + unescape_xml(formula.group(1).decode("utf-8", "replace")) if formula else None
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


def ods_strays(scan: SheetScan, box: list[int], outside: list, content: bytes) -> list[tuple[int, int, bytes]]:
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
            text = unescape_xml(re.sub(rb"<[^>]*>", b"", inner).decode("utf-8", "replace")).strip()
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


def xml_int(value: bytes | None) -> int:
    try:
        return max(1, int(value)) if value else 1
    except ValueError:
        return 1


def unescape_xml(text: str) -> str:
    from xml.sax.saxutils import unescape

    return unescape(text, {"&quot;": '"', "&apos;": "'"})
