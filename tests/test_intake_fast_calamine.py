"""calamine reads the package sniff hands it (Package.for_calamine: the checked parts, stored, sheets
without the text of formulas that have a cached value) exactly as it reads the file itself."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from cascadebook.intake.gate import FORMULA_WITH_VALUE, inspect
from conftest import clean_initiative, clean_kpi

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import make_corpus as corpus

ROOT = Path(__file__).resolve().parents[1]


def same_as_calamine(path: Path) -> int:
    """Assert every sheet reads the same from the file and from the lean package; the sheets compared."""
    from python_calamine import CalamineWorkbook

    original = CalamineWorkbook.from_path(str(path))
    lean = CalamineWorkbook.from_filelike(io.BytesIO(inspect(path).for_calamine()))
    try:
        assert lean.sheet_names == original.sheet_names
        assert [s.visible for s in lean.sheets_metadata] == [s.visible for s in original.sheets_metadata]
        for name in original.sheet_names:
            want, got = original.get_sheet_by_name(name), lean.get_sheet_by_name(name)
            assert got.to_python(skip_empty_area=False) == want.to_python(skip_empty_area=False), name
            assert (got.start, got.end) == (want.start, want.end), name
        return len(original.sheet_names)
    finally:
        original.close()
        lean.close()


def test_a_filled_template_reads_the_same(fill):
    path = fill(
        "MKT",
        rows={
            "initiatives": [
                clean_initiative("CO1", "Campaign", 1, 2),
                clean_initiative("CO2", "  n/a ", "1,200", "15%", due_period="2027-Q3"),
            ],
            "kpis": [clean_kpi("MKT-I01", "Leads"), clean_kpi("MKT-I02", "=1+1")],
        },
    )
    assert same_as_calamine(path) >= 5


@pytest.mark.parametrize(
    "cells",
    [
        {
            "H5": "<f>1+1</f><v>2</v>",
            "H6": "<f>2*3</f>",
            "I5": '<f t="shared" ref="I5:I6" si="0">H5*2</f><v>4</v>',
            "I6": '<f t="shared" si="0"/><v>12</v>',
        },
        {"H5": '<f aca="false">1+1</f><v>2</v>', "C5": '<f aca="false">"a"&amp;"b"</f><v>ab</v>'},  # LibreOffice
        {"H5": "<f>1+1</f><v></v>", "H6": "<f>1</f><f>2</f><v>2</v>", "C5": "<v>7</v><f>\"x\"</f>"},
        {"C5": '<f t="a>b">1</f><v>x</v>', "C6": "<f><![CDATA[1+1]]></f><v>2</v>", "C7": "<f>1</f>\n<v>1</v>"},
    ],
)
def test_formula_cells_read_the_same(fill, tmp_path, cells):
    filled = fill("MKT", "typed.xlsx", rows={"initiatives": [clean_initiative("CO1", "Campaign", 1, 2)]})
    path = corpus.raw_cells(tmp_path / "raw.xlsx", filled, "Initiatives", cells)
    assert same_as_calamine(path) >= 5


def test_the_template_s_live_check_formulas_are_what_is_taken_out(fill):
    path = fill("MKT", rows={"initiatives": [clean_initiative("CO1", "Campaign", 1, 2)]})
    data = corpus.package_parts(path)[corpus.TEMPLATE_SHEET_PARTS["Initiatives"]]
    assert b"</f><v />" in data  # openpyxl (fill) writes no cached values: nothing to take out
    assert FORMULA_WITH_VALUE.sub(b"", data) == data
    data = data.replace(b"</f><v />", b"</f><v></v>")  # as Excel and xlsxwriter write an empty result
    lean = FORMULA_WITH_VALUE.sub(b"", data)
    assert len(lean) < len(data) / 2 and b"<v>" in lean
    assert lean.count(b"<c ") == data.count(b"<c ") and lean.count(b"<v>") == data.count(b"<v>")


@pytest.fixture(scope="session")
def benchmark_returns(tmp_path_factory) -> list[Path]:
    """Five returns as the benchmark writes them (benchmarks/make_corpus.py, about a second), built here."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import make_corpus

    folder = make_corpus.make_corpus(5, jobs=1, root=tmp_path_factory.mktemp("bench-corpus"), log=None)
    return sorted((folder / "returns").glob("*.xlsx"))


def test_the_benchmark_corpus_reads_the_same(benchmark_returns):
    assert len(benchmark_returns) == 5
    for path in benchmark_returns:
        assert same_as_calamine(path) == 5


def test_a_calamine_that_wants_other_parts_reads_the_file_itself(fill, monkeypatch):
    from cascadebook import load_spec, read_return
    from cascadebook.intake.gate import Package

    path = fill("MKT", rows={"initiatives": [clean_initiative("CO1", "Campaign", 1, 2)]})
    want = read_return(path, load_spec())
    monkeypatch.setattr(Package, "for_calamine", lambda self: b"PK\x05\x06" + bytes(18))  # an empty zip
    got = read_return(path, load_spec())
    assert got.status == want.status == "read" and got.records == want.records
    assert [f.to_dict() for f in got.findings] == [f.to_dict() for f in want.findings]
