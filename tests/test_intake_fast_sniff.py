"""The sniffer's fast checks: one search each, conclusive only when they find nothing suspicious.

Whatever calamine would place as a cell far out must never be taken for a small sheet; whatever the
fast checks cannot prove goes to the exact scans. The shapes below are what calamine really reads
(checked against python-calamine here), not only what spreadsheet programs write.
"""

from __future__ import annotations

import sys
from pathlib import Path

import openpyxl
import pytest

from cascadebook.intake import sheet_scan
from cascadebook.intake.gate import MAX_CELLS, Refused, inspect
from cascadebook.intake.sheet_scan import SMALL_COLS, SMALL_ROWS
from cascadebook.xlsx.addresses import parse_a1

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import make_corpus as corpus

SHEET = "xl/worksheets/sheet1.xml"
ROOT = (
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    b'xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
)


def sheet_xml(cells: bytes, root: bytes = ROOT, end: bytes = b"</worksheet>") -> bytearray:
    return bytearray(
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        + root
        + b'<dimension ref="A1"/><sheetData><row r="1"><c r="A1" s="17"/><c r="B1"><v>0</v></c>'
        b'</row>' + cells + b"</sheetData>" + end
    )


# (cell markup with {ref}, whether calamine places it at {ref})
SHAPES = {
    "plain": b'<c r="{ref}" t="inlineStr"><is><t>x</t></is></c>',
    "prefixed": b'<x:c r="{ref}" t="inlineStr"><x:is><x:t>x</x:t></x:is></x:c>',
    "newline": b'<c\nr="{ref}" t="inlineStr"><is><t>x</t></is></c>',
    "tab": b'<c\tr="{ref}" t="inlineStr"><is><t>x</t></is></c>',
    "type first": b'<c t="inlineStr" r="{ref}"><is><t>x</t></is></c>',
    "single quotes": b"<c r='{ref}' t=\"inlineStr\"><is><t>x</t></is></c>",
    "lower case": b'<c r="{lower}" t="inlineStr"><is><t>x</t></is></c>',
    "second r": b'<c r="A7" t="inlineStr" r="{ref}"><is><t>x</t></is></c>',
    "second r, no space": b'<c r="A7"r="{ref}" t="inlineStr"><is><t>x</t></is></c>',
    "quoted >": b'<c r="A7" s=">" r="{ref}" t="inlineStr"><is><t>x</t></is></c>',
}


def cell(shape: str, ref: str) -> bytes:
    row = "".join(ch for ch in ref if ch.isdigit())
    markup = SHAPES[shape].replace(b"{ref}", ref.encode()).replace(b"{lower}", ref.lower().encode())
    return b'<row r="%s">%s</row>' % (row.encode(), markup)


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("sniff") / "base.xlsx"
    book = openpyxl.Workbook()
    book.active.title = "S"
    book.active["A1"] = "x"
    book.save(path)
    return path


def with_sheet(base: Path, path: Path, data: bytes, **renamed: str) -> Path:
    parts = corpus.package_parts(base)
    parts[SHEET] = bytes(data)
    for old, new in renamed.items():
        parts[new] = parts.pop(old)
    return corpus.rezip(path, parts)


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_calamine_places_every_shape_and_the_sniffer_sees_it(shape, base, tmp_path):
    from python_calamine import CalamineWorkbook

    path = with_sheet(base, tmp_path / "s.xlsx", sheet_xml(cell(shape, "E7")))
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("S").to_python()
    assert len(rows) == 7 and rows[6] == ["", "", "", "x"]  # B1:E7: the cell is where its (last) r says
    scan = inspect(path).scan("S")
    assert scan.rows >= 7 and scan.cols >= 5


@pytest.mark.parametrize("shape", sorted(SHAPES))
@pytest.mark.parametrize("ref", ["XFD1048576", "BA1", "A10000", "AAA1"])
def test_a_cell_beyond_AZ9999_is_never_taken_for_small(shape, ref):
    data = sheet_xml(cell(shape, ref))
    exact = sheet_scan._exact_extent(data)
    assert sheet_scan._extent(data) == exact  # the fast check was not conclusive: the exact scan ran
    row, col = parse_a1(ref)
    assert exact[0] >= row and exact[1] >= col
    if ref == "XFD1048576":
        assert exact[0] * exact[1] > MAX_CELLS


def test_a_plain_sheet_within_AZ9999_is_small_without_the_exact_scan(monkeypatch):
    data = sheet_xml(
        b'<row r="9999"><c r="AZ9999" s="3" t="s"><v>1</v></c><c r="B9999"/></row>'
        b'<row r="5"><c r="C5"><f>1+1</f><v>2</v></c><c r="D5" s="1" t="str"><f>"a"</f><v>a</v></c></row>'
    )
    monkeypatch.setattr(sheet_scan, "_exact_extent", None)  # would raise if called
    monkeypatch.setattr(sheet_scan, "_uncached_formulas", None)
    scan = sheet_scan.scan_sheet("S", SHEET, data)
    assert (scan.rows, scan.cols, scan.uncached) == (SMALL_ROWS, SMALL_COLS, set())


@pytest.mark.parametrize(
    "cells",
    [
        b'<row r="3"><c/></row>',
        b'<row r="3"><c></c></row>',
        b'<row r="3"><c s="1"><v>1</v></c></row>',
        b'<row r="3"><c r="A3"/><c t="n"><v>1</v></c></row>',
    ],
)
def test_cells_without_a_reference_take_the_exact_scan(cells):
    data = sheet_xml(cells)
    assert sheet_scan._extent(data) == sheet_scan._exact_extent(data) != (SMALL_ROWS, SMALL_COLS)


def test_a_prefixed_root_takes_the_exact_scans():
    root = b'<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    data = sheet_xml(b'<x:row r="8"><x:c r="C8"><x:f>1+1</x:f></x:c></x:row>', root=root, end=b"</x:worksheet>")
    scan = sheet_scan.scan_sheet("S", SHEET, data)
    assert (scan.rows, scan.cols) == sheet_scan._exact_extent(data) == (8, 3)
    assert scan.uncached == {(8, 3)}


@pytest.mark.parametrize(
    "cells, uncached",
    [
        (b'<c r="C5"><f>1+1</f><v>2</v></c>', set()),
        (b'<c r="C5"><f>2*3</f></c>', {(5, 3)}),
        (
            b'<c r="C5"><f t="shared" ref="C5:C6" si="0">2*3</f><v>6</v></c><c r="C6"><f t="shared" si="0"/></c>',
            {(6, 3)},
        ),
        (b'<c r="C5"><f t="shared" si="0"/><v>6</v></c>', set()),
        (b'<c r="C5"><f>1+1</f><v>2</v></c><c r="D5" t="str"><f>"a"</f></c>', {(5, 4)}),
        (b'<c r="C5"><f\t>1+1</f></c>', {(5, 3)}),
        (b'<c r="C5"><f>1+1</f ></c>', {(5, 3)}),
        (b'<c r="C5"><f>1+1</f><v/></c>', {(5, 3)}),
        (b'<c r="C5"><f t="shared" ref="C5:C6" si="0">2*3</f><v>6</v></c><c r="C6"><f t="a>b" si="0"/></c>', {(6, 3)}),
        (b'<c r="C5"><f t="shared" ref="C5:C6" si="0">2*3</f><v>6</v></c><c r="C6"><f si="0" t="a/b"/></c>', {(6, 3)}),
        (b'<c r="C5" t="str"><f aca="false">"a"</f><v>a</v></c>', set()),  # LibreOffice
    ],
)
def test_formulas_without_a_cached_value_are_found(cells, uncached):
    data = sheet_xml(b'<row r="5">' + cells + b"</row>")
    scan = sheet_scan.scan_sheet("S", SHEET, data)
    assert scan.uncached == uncached == sheet_scan._uncached_formulas(data)


def lying(base: Path, path: Path, part: str) -> Path:
    """The package with ``part`` declaring 4 KB and inflating to 20 MB."""
    parts = corpus.package_parts(base)
    assert part in parts
    packed, crc, _ = corpus.deflate_stream(corpus._zeros(20))
    entries = [
        (name, packed, crc, 4096, 8) if name == part else entry for name, entry in zip(parts, corpus._entries(parts))
    ]
    return corpus.raw_zip(path, entries)


def test_parts_no_reader_opens_are_checked_by_declared_size_only(base, tmp_path):
    """A lying header on the theme hurts nobody: calamine never opens it, nor does cascadebook."""
    assert inspect(lying(base, tmp_path / "theme.xlsx", "xl/theme/theme1.xml")).scan("S") is not None
    for part in (SHEET, "xl/styles.xml", "xl/workbook.xml", "_rels/.rels", "docProps/core.xml"):  # parts someone reads
        with pytest.raises(Refused, match="declares 4096 bytes but inflates to more"):
            inspect(lying(base, tmp_path / "part.xlsx", part))


def test_a_sheet_part_of_any_name_is_scanned(base, tmp_path):
    """calamine reads whatever part the workbook's relationship names, .xml or not, case-blind."""
    path = with_sheet(base, tmp_path / "odd.xlsx", sheet_xml(cell("plain", "XFD1048576")), **{SHEET: "xl/data/Cells"})
    parts = corpus.package_parts(path)
    rels = "xl/_rels/workbook.xml.rels"
    parts[rels] = parts[rels].replace(b"worksheets/sheet1.xml", b"DATA/cells")
    corpus.rezip(path, parts)
    package = inspect(path)  # the far value was seen there: a stray, left out of what calamine reads
    assert package.scan("S").strays == [(1048576, 16384, "x")] and package.cells("S") == 2
    assert b"XFD1048576" not in package.calamine_parts["xl/data/Cells"]


def test_parts_named_alike_but_for_case_are_refused(base, tmp_path):
    parts = corpus.package_parts(base)
    parts["XL/Worksheets/Sheet1.xml"] = bytes(sheet_xml(cell("plain", "XFD1048576")))
    corpus.rezip(tmp_path / "case.xlsx", parts)
    with pytest.raises(Refused, match="two parts named"):
        inspect(tmp_path / "case.xlsx")
