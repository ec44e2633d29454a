"""The master's Dashboard: first sheet, tiles and native charts over the master's own live ranges.

Templates are generated from the sample strategy, filled as department heads would (one late, one
with errors, one rejected), reconciled through the library; then the file itself is read: the charts'
XML (which cells each series points at, and what they hold), the cached values against the Summary,
Commitments and the Python Reconciliation, LibreOffice's recalculation, and the printed page.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from dataclasses import replace
from pathlib import Path
from xml.etree import ElementTree

import openpyxl
import pytest

from cascadebook import generate, reconcile, write_master
from cascadebook.spec.roles import BUDGET, HEADCOUNT
from conftest import clean_initiative, clean_kpi
from fill import fill_workbook
from libreoffice import convert

needs_libreoffice = pytest.mark.libreoffice  # skipped without soffice, failed under CI (conftest.py)
NS = {
    "c": "http://schemas.openxmlformats.org/drawingml/2006/chart",
    "a": "http://schemas.openxmlformats.org/drawingml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "rel": "http://schemas.openxmlformats.org/package/2006/relationships",
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "xdr": "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing",
}
AFTER_THE_DEADLINE = "2027-02-03T08:15:00+00:00"  # the sample strategy's deadline is 2027-01-29


@pytest.fixture
def result(strategy, key, fill, returned, workdir):
    """MKT and OPS return clean, SAL with an error, RND's is last cycle's template (rejected); FIN and HR
    do not return."""
    fill(
        "MKT",
        rows={
            "initiatives": [
                clean_initiative("CO1", "ABM campaign", 40, 150, contribution=6, budget=600000, headcount=3),
                clean_initiative("CO2", "Content", 0.48, 0.6, contribution="4%", budget=400000, headcount=2),
            ],
            "kpis": [clean_kpi("MKT-I01", "Leads"), clean_kpi("MKT-I02", "Posts")],
        },
    )
    fill(
        "OPS",
        rows={
            "initiatives": [clean_initiative("CO4", "Automation", 1, 2, contribution=40_000_000, budget=2_000_000)],
            "kpis": [clean_kpi("OPS-I01", "On time")],
        },
    )
    fill(
        "SAL",
        rows={
            "initiatives": [
                clean_initiative("CO1", "Solution selling", 0.15, 0.22, contribution=20, budget="lots"),
                clean_initiative("CO6", "Reviews", 31, 45, contribution=25, headcount=1),
            ],
            "kpis": [clean_kpi("SAL-I01", "Close rate")],
        },
    )
    old = generate(replace(strategy, cycle="FY2026"), workdir / "old", departments=["RND"], key=key)[0]
    fill_workbook(old, returned / "RND.xlsx", rows={"initiatives": [clean_initiative("CO3", "Old plan", 1, 2)]})
    result = reconcile(strategy, [returned], key=key, jobs=1)
    result.generated_at = AFTER_THE_DEADLINE  # reconciled after the deadline: FIN and HR are late
    return result


@pytest.fixture
def master(result, tmp_path) -> Path:
    return write_master(result, tmp_path / "master.xlsx")


def _statuses(result) -> dict[str, str]:
    return {code: c["status"] for code, c in result.department_counts().items()}


def test_the_fixture_has_every_state(result):
    counts = result.department_counts()
    assert _statuses(result) == {
        "FIN": "not returned",
        "HR": "not returned",
        "MKT": "returned",
        "OPS": "returned",
        "RND": "rejected",
        "SAL": "returned",
    }
    assert counts["SAL"]["error"] > 0 and counts["MKT"]["error"] == counts["OPS"]["error"] == 0


def test_dashboard_is_the_first_and_active_sheet(master):
    book = openpyxl.load_workbook(master)
    assert book.sheetnames[:2] == ["Dashboard", "Summary"]
    assert book.active.title == "Dashboard"
    ws = book["Dashboard"]
    assert ws.page_setup.orientation == "landscape" and ws.sheet_properties.pageSetUpPr.fitToPage
    assert (ws.page_setup.fitToWidth in (None, 1)) and (ws.page_setup.fitToHeight in (None, 1))
    assert ws.print_area and "Page &P of &N" in ws.oddFooter.center.text
    assert "Northwind" in ws.oddHeader.left.text and "FY2027" in ws.oddHeader.left.text


# ---- the charts' XML -------------------------------------------------------------------------------


def _charts(path: Path) -> list[dict]:
    """The charts drawn on the first sheet: title and, per series, its name/categories/values
    references and cached points, read from the package as Excel would."""
    with zipfile.ZipFile(path) as z:

        def rels(name: str) -> dict[str, str]:
            folder, base = name.rsplit("/", 1)
            tree = ElementTree.fromstring(z.read(f"{folder}/_rels/{base}.rels"))
            return {r.get("Id"): _join(folder, r.get("Target")) for r in tree.findall("rel:Relationship", NS)}

        workbook = ElementTree.fromstring(z.read("xl/workbook.xml"))
        first = workbook.find("m:sheets/m:sheet", NS)
        sheet = rels("xl/workbook.xml")[first.get(f"{{{NS['r']}}}id")]
        drawing_id = ElementTree.fromstring(z.read(sheet)).find("m:drawing", NS).get(f"{{{NS['r']}}}id")
        drawing = rels(sheet)[drawing_id]
        targets = rels(drawing)
        charts = []
        for frame in ElementTree.fromstring(z.read(drawing)).iter(f"{{{NS['c']}}}chart"):
            tree = ElementTree.fromstring(z.read(targets[frame.get(f"{{{NS['r']}}}id")]))
            title = "".join(t.text or "" for t in tree.find("c:chart/c:title", NS).iter(f"{{{NS['a']}}}t"))
            series = []
            for ser in tree.iter(f"{{{NS['c']}}}ser"):
                entry = {}
                for part in ("tx", "cat", "val"):
                    ref = ser.find(f"c:{part}//c:f", NS)
                    points = ser.findall(f"c:{part}//c:pt", NS)
                    entry[part] = ref.text if ref is not None else None
                    entry[part + "_cache"] = {int(p.get("idx")): p.find("c:v", NS).text for p in points}
                series.append(entry)
            axes = [f.get("formatCode") for f in tree.findall("c:chart/c:plotArea/c:valAx/c:numFmt", NS)]
            charts.append({"title": title, "series": series, "axis_formats": axes})
    return charts


def _join(folder: str, target: str) -> str:
    parts = folder.split("/")
    for piece in target.split("/"):
        if piece == "..":
            parts.pop()
        elif piece != ".":
            parts.append(piece)
    return "/".join(parts)


def _cells(book, ref: str) -> list:
    """The values of a one-column range such as 'Summary'!$H$18:$H$23."""
    sheet, cells = ref.rsplit("!", 1)
    ws = book[sheet.strip("'").replace("''", "'")]
    first, _, last = cells.replace("$", "").partition(":")
    return [row[0].value for row in ws[first : last or first]]


def _chart(charts: list[dict], start: str) -> dict:
    [found] = [c for c in charts if c["title"].startswith(start)]
    return found


def _plain(values: list) -> list:
    return [None if v in ("", None) else v for v in values]


def test_charts_read_the_masters_own_ranges(master, result):
    charts = _charts(master)
    assert len(charts) >= 3
    cached = openpyxl.load_workbook(master, data_only=True)
    formulas = openpyxl.load_workbook(master)
    codes = sorted(d.code for d in result.strategy.departments)
    counts = result.department_counts()
    objectives = [c.objective.id for c in result.commitments]

    # Every series points at cells of this workbook, and caches what those cells hold (for viewers that
    # draw charts without recalculating): the same points, text as text and numbers as numbers.
    for chart in charts:
        for s in chart["series"]:
            for part in ("cat", "val"):
                shown = {i: v for i, v in enumerate(_cells(cached, s[part])) if v not in ("", None)}
                cache = s[part + "_cache"]
                assert set(cache) == set(shown), (chart["title"], part)
                for i, v in shown.items():
                    assert cache[i] == str(v) if part == "cat" else float(cache[i]) == pytest.approx(v), (chart, i)

    # (b) budget and headcount by department: the Summary's Submissions columns, against the caps
    for start, key, caps in (
        ("Budget", BUDGET, [d.budget_cap for d in sorted(result.strategy.departments, key=lambda d: d.code)]),
        ("Headcount", HEADCOUNT, [d.headcount_cap for d in sorted(result.strategy.departments, key=lambda d: d.code)]),
    ):
        chart = _chart(charts, start)
        requested, approved, cap = chart["series"]
        assert _cells(cached, approved["val"]) == [0] * len(codes)  # nothing decided yet
        assert requested["cat"].startswith("Summary!$A$") and requested["val"].startswith("Summary!$")
        assert _cells(cached, requested["cat"]) == codes
        assert _cells(cached, requested["val"]) == pytest.approx([counts[c][key] for c in codes])
        assert _plain(_cells(cached, cap["val"])) == caps
        column = requested["val"].split("!")[1].split("$")[1]
        first_row = int(requested["val"].split("$")[2].rstrip(":"))
        assert cached["Summary"][f"{column}{first_row - 1}"].value == start  # the column's header
        assert formulas["Summary"][f"{column}{first_row}"].value.startswith("=SUMIF(")  # live, not a copy
    assert _cells(cached, _chart(charts, "Headcount")["series"][2]["val"]) is not None

    # (a) commitments: a series per status over the helper table, each a formula over Commitments
    chart = _chart(charts, "Commitments")
    names = [_cells(cached, s["tx"])[0] if s["tx"] else None for s in chart["series"]]
    assert names[:3] == ["Short", "Covered", "Surplus"]
    by_id = {c.objective.id: c for c in result.commitments}
    for s in chart["series"][:3]:
        assert s["val"].startswith("Dashboard!$") and _cells(cached, s["cat"]) == objectives
        state = _cells(cached, s["tx"])[0].casefold()
        for objective, value in zip(objectives, _cells(cached, s["val"])):
            c = by_id[objective]
            status = (
                "gap" if not c.initiatives else ("short" if c.ratio < 1 else "surplus" if c.ratio > 1.5 else "covered")
            )
            assert (value not in ("", None)) == (status == state)
            if status == state:
                assert value == pytest.approx(c.ratio)
        first_cell = s["val"].split("!")[1].split(":")[0].replace("$", "")
        assert formulas["Dashboard"][first_cell].value.startswith("=IF(")
    target = chart["series"][3]
    assert _cells(cached, target["val"]) == [1] * len(objectives)
    ratio_col = formulas["Dashboard"][chart["series"][0]["val"].split("!")[1].split(":")[0].replace("$", "")]
    assert "Commitments" not in ratio_col.value  # the status columns read the helper's ratio column...
    helper_ratio = _helper(cached, "Committed %")
    helper_formulas = _helper(formulas, "Committed %")
    assert all(f.startswith("='Commitments'!$K$") for f in helper_formulas)  # ... which reads Commitments
    assert helper_ratio == [c.ratio for c in result.commitments]

    # (c) returns: the states counted over the Summary's statuses
    chart = _chart(charts, "Returns")
    [series] = chart["series"]
    assert _cells(cached, series["cat"])[:4] == ["Returned", "Returned with errors", "Rejected", "Late (not returned)"]
    assert _cells(cached, series["val"]) == [2, 1, 1, 2, 0]

    # (d) coverage: initiatives per objective, and a band where nobody serves one
    chart = _chart(charts, "Coverage")
    served, gap = chart["series"]
    assert _cells(cached, served["val"]) == [c.initiatives for c in result.commitments]
    most = max(c.initiatives for c in result.commitments)
    assert _plain(_cells(cached, gap["val"])) == [None if c.initiatives else most for c in result.commitments]
    assert any(not c.initiatives for c in result.commitments)  # the fixture has a gap to show


def _helper(book, header: str) -> list:
    """A column of the Dashboard's objectives table (under the charts), by its header."""
    ws = book["Dashboard"]
    for row in ws.iter_rows():
        for cell in row:
            if cell.value == header:
                values = []
                r = cell.row + 1
                while ws.cell(r, 2).value not in (None, ""):  # every objective has its initiatives' count
                    values.append(ws.cell(r, cell.column).value)
                    r += 1
                return values
    raise AssertionError(f"no {header!r} column on the Dashboard")


def _tiles(book) -> dict[str, object]:
    """The tiles: label (the row under the figure) -> figure."""
    ws = book["Dashboard"]
    return {ws.cell(5, c).value.split(" (")[0]: ws.cell(4, c).value for c in range(1, 13, 2) if ws.cell(5, c).value}


def _returns(book) -> dict[str, int]:
    ws = book["Dashboard"]
    header = next(c for row in ws.iter_rows() for c in row if c.value == "Returns")
    out = {}
    r = header.row + 1
    while ws.cell(r, header.column).value:
        out[ws.cell(r, header.column).value] = ws.cell(r, header.column + 2).value
        r += 1
    return out


def test_tiles_and_tables_hold_the_masters_figures(master, result):
    cached = openpyxl.load_workbook(master, data_only=True)
    summary = {r[0]: r[1] for r in cached["Summary"].iter_rows(values_only=True) if r[0]}
    tiles = _tiles(cached)
    assert tiles == {
        "Departments returned": summary["Departments returned"],
        "Objectives covered": summary["Objectives covered"],
        "Initiatives decided": summary["Initiatives decided"],
        "Budget requested": summary["Budget requested"],
        "Budget approved": summary["Budget approved"],
        "Errors open": summary["Errors"],
    }
    assert tiles["Initiatives decided"] == 0 and tiles["Budget approved"] == 0  # no decisions yet
    assert tiles["Departments returned"] == 3 and tiles["Errors open"] == result.counts["error"] > 0
    assert tiles["Objectives covered"] == sum(1 for c in result.commitments if c.initiatives)
    assert tiles["Budget requested"] == pytest.approx(2_000_000 + 600_000 + 400_000)
    commitments = {r[0]: r for r in cached["Commitments"].iter_rows(min_row=2, values_only=True) if r[0]}
    assert _helper(cached, "Objective") == [c.objective.id for c in result.commitments]
    assert _helper(cached, "Initiatives") == [commitments[c.objective.id][11] for c in result.commitments]
    assert _helper(cached, "Status") == [commitments[c.objective.id][16] for c in result.commitments]
    # returns: as the Summary's Submissions table says, late as of the reconcile time written on the sheet
    ws = cached["Dashboard"]
    assert ws["B2"].value == AFTER_THE_DEADLINE and ws["I2"].value == "yes"
    statuses = _statuses(result)
    assert _returns(cached) == {
        "Returned": 2,
        "Returned with errors": 1,
        "Rejected": list(statuses.values()).count("rejected"),
        "Late (not returned)": list(statuses.values()).count("not returned"),
        "Not returned, not yet due": 0,
    }


def test_before_the_deadline_nobody_is_late(result, tmp_path):
    result.generated_at = "2027-01-29T23:00:00+00:00"  # the deadline's day: not past it
    cached = openpyxl.load_workbook(write_master(result, tmp_path / "m.xlsx"), data_only=True)
    assert cached["Dashboard"]["I2"].value == "no"
    assert _returns(cached)["Late (not returned)"] == 0 and _returns(cached)["Not returned, not yet due"] == 2


# ---- LibreOffice: recalculation and the printed page -------------------------------------------------


def _dashboard_formulas(path: Path) -> dict[str, object]:
    formulas = openpyxl.load_workbook(path)["Dashboard"]
    cached = openpyxl.load_workbook(path, data_only=True)["Dashboard"]
    return {
        c.coordinate: cached[c.coordinate].value
        for row in formulas.iter_rows()
        for c in row
        if isinstance(c.value, str) and c.value.startswith("=")
    }


@needs_libreoffice
def test_libreoffice_recalculates_the_dashboard_and_it_follows_an_edit(master, result, tmp_path):
    expected = _dashboard_formulas(master)
    assert len(expected) > 40
    # finance edits a number: one initiative's budget in the Initiatives table
    edited = tmp_path / "edited.xlsx"
    book = openpyxl.load_workbook(master)
    ws = book["Initiatives"]
    header = [c.value for c in ws[1]]
    budget = header.index("Budget") + 1
    row = next(r for r in range(2, ws.max_row + 1) if ws.cell(r, budget).value == 2_000_000)
    ws.cell(row, budget).value = 2_500_000
    book.save(edited)
    again, after = convert([master, edited], "xlsx", tmp_path / "lo")
    recalculated = openpyxl.load_workbook(again, data_only=True)["Dashboard"]
    mismatches = []
    for ref, value in expected.items():
        got = recalculated[ref].value
        same = got == value or (value in ("", None) and got in ("", None))
        if not same and isinstance(got, (int, float)) and isinstance(value, (int, float)):
            same = got == pytest.approx(value, rel=1e-9, abs=1e-9)
        if not same:
            mismatches.append((ref, value, got))
    assert mismatches == []
    tiles = _tiles(openpyxl.load_workbook(after, data_only=True))
    assert tiles["Budget requested"] == pytest.approx(3_000_000 + 500_000)


def _first_sheet_only(path: Path, out: Path) -> Path:
    """A copy whose other sheets are hidden (so not printed) but still there for the formulas."""
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/workbook.xml":
                sheets = re.findall(rb"<sheet [^>]*/>", data)
                for tag in sheets[1:]:
                    data = data.replace(tag, tag.replace(b"<sheet ", b'<sheet state="hidden" ', 1))
            dst.writestr(item, data)
    return out


def _poppler(tool: str) -> str:
    found = shutil.which(tool)
    if found is None:
        pytest.skip(f"{tool} (poppler-utils) is not installed")
    return found


@needs_libreoffice
def test_the_dashboard_prints_on_one_landscape_page_without_hashes(master, tmp_path):
    pdfinfo, pdftotext = _poppler("pdfinfo"), _poppler("pdftotext")
    pdf = convert([_first_sheet_only(master, tmp_path / "dashboard.xlsx")], "pdf", tmp_path / "pdf")[0]
    info = subprocess.run([pdfinfo, str(pdf)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"^Pages:\s+1$", info, re.MULTILINE), info
    width, height = map(float, re.search(r"Page size:\s+([\d.]+) x ([\d.]+)", info).groups())
    assert width > height  # landscape
    text = subprocess.run([pdftotext, "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "###" not in text
    for words in ("Departments returned (of 6)", "Commitments against each objective", "Returns", "Page 1 of 1"):
        assert words in text, words


def test_readme_shows_the_dashboard():
    root = Path(__file__).resolve().parents[1]
    assert "![The Dashboard of the samples' master](docs/dashboard.png)" in (root / "README.md").read_text()
    assert (root / "docs" / "dashboard.png").read_bytes().startswith(b"\x89PNG\r\n")


def test_the_budget_is_shown_in_the_strategys_currency_on_its_tile_and_chart_axis(master, result):
    """The sample strategy's currency is USD: the budget requested tile and the budget chart's value axis
    carry the money format the rest of the master uses ($), the counts and headcount do not."""
    assert result.strategy.currency == "USD"
    ws = openpyxl.load_workbook(master)["Dashboard"]
    cells = {c.value: c for row in ws.iter_rows(max_row=8) for c in row if c.value is not None}
    label = next(c for v, c in cells.items() if isinstance(v, str) and v.endswith(" requested"))
    tile = next(ws.cell(r, label.column) for r in range(label.row - 1, 0, -1) if ws.cell(r, label.column).value)
    assert "$" in tile.number_format
    returned = next(c for v, c in cells.items() if isinstance(v, str) and v.startswith("Departments returned"))
    count = next(
        ws.cell(r, returned.column) for r in range(1, returned.row) if ws.cell(r, returned.column).value is not None
    )
    assert "$" not in count.number_format
    charts = _charts(master)
    budget_axis = [
        f for c in charts if c["title"].startswith(f"{label.value.split()[0]} by department") for f in c["axis_formats"]
    ]
    assert budget_axis and all("$" in f for f in budget_axis)
    assert not [f for c in charts if "Headcount" in c["title"] for f in c["axis_formats"] if "$" in (f or "")]
