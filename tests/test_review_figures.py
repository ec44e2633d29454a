"""Finance's review in figures (issue 19): decided / undecided and approved against requested budget and
headcount, per department (Summary), per objective (Commitments, through the Contributions table's
shares) and in all (Summary facts, Dashboard tiles), as live formulas whose cached values are what
Excel computes.

One cycle, built once: reconciled with no decision (everything undecided, nothing approved), then
decisions typed into the saved master with openpyxl as finance would and reconcile run again (the
decisions carried). Every figure is checked cell by cell against hand-computed numbers, then both masters
are recalculated in one LibreOffice call and every formula's cached value must be what Calc computes.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from cascadebook import generate, load_key, load_strategy
from cascadebook.cli import cli
from conftest import SAMPLE_STRATEGY, clean_initiative, clean_kpi
from fill import fill_workbook
from libreoffice import convert

MKT = [
    clean_initiative("CO1", "ABM campaign", 40, 150, budget=600000, headcount=3),  # I01
    clean_initiative("CO1", "Content programme", 1, 2, budget=100000),  # I02
    clean_initiative("CO1", "Webinars", 5, 9),  # I03: no budget, no headcount
    clean_initiative(None, "Shared platform", 1, 2, budget=200000, headcount=1, objective_split="CO1 60% / CO5 40%"),
]
SAL = [
    clean_initiative("CO1", "Solution selling", 0.15, 0.22, budget=180000, headcount=2),  # I01
    clean_initiative("CO5", "Ship from stock", 10, 9, budget=40000, headcount=1),  # I02
    clean_initiative("CO1", "Partner deals", 1, 3, budget=50000),  # I03: left undecided
]
DECISIONS = {
    "MKT-I01": {"Decision": "Approved with changes", "Approved budget": 500000},  # headcount blank: 3 asked
    "MKT-I02": {"Decision": "Revise", "Comment": "say which channels"},  # nothing approved yet
    "MKT-I03": {"Decision": "Approved"},  # nothing asked, nothing approved
    "MKT-I04": {"Decision": "approved", "Approved headcount": 0.5},  # case aside; budget blank: 200,000
    "SAL-I01": {"Decision": "Approved", "Approved budget": "n/a"},  # text approves 0; headcount blank: 2
    "SAL-I02": {"Decision": "Rejected", "Approved budget": 40000},  # rejected: 0 whatever is typed
}
# Hand-computed: (decided, undecided, budget requested, approved, headcount requested, approved)
DEPARTMENTS = {
    "MKT": (4, 0, 900000, 500000 + 200000, 4, 3 + 0.5),
    "SAL": (2, 1, 270000, 0, 3, 2),
}
# Per objective: approved budget and headcount (the split initiative by weight: CO1 60%, CO5 40%)
OBJECTIVES = {
    "CO1": (500000 + 0.6 * 200000, 3 + 0.6 * 0.5 + 2),
    "CO5": (0.4 * 200000, 0.4 * 0.5),
}


def _reconcile(root: Path) -> None:
    args = ["reconcile", str(root / "strategy.yaml"), str(root / "returned"), "-q", "-o", str(root / "master.xlsx")]
    done = CliRunner().invoke(cli, args)
    assert done.exit_code in (0, 1), done.output


def _fill(root: Path, code: str, initiatives: list[dict]) -> None:
    kpis = [clean_kpi(f"{code}-I{n:02d}", f"KPI {n}") for n in range(1, len(initiatives) + 1)]
    fill_workbook(
        root / "outbox" / f"FY2027_{code}.xlsx",
        root / "returned" / f"{code}.xlsx",
        rows={"initiatives": initiatives, "kpis": kpis},
    )


@pytest.fixture(scope="module")
def masters(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("figures")
    shutil.copyfile(SAMPLE_STRATEGY, root / "strategy.yaml")
    generate(load_strategy(root / "strategy.yaml"), root / "outbox", key=load_key(root / "strategy.yaml", create=True))
    (root / "returned").mkdir()
    _fill(root, "MKT", MKT)
    _fill(root, "SAL", SAL)
    _reconcile(root)
    undecided = root / "undecided.xlsx"
    shutil.copyfile(root / "master.xlsx", undecided)
    book = openpyxl.load_workbook(root / "master.xlsx")  # finance types its decisions
    ws = book["Initiatives"]
    header = {c.value: c.column for c in ws[1]}
    rows = {ws.cell(r, header["Initiative ID"]).value: r for r in range(2, ws.max_row + 1)}
    for ident, cells in DECISIONS.items():
        for name, value in cells.items():
            ws.cell(rows[ident], header[name], value)
    book.save(root / "master.xlsx")
    _reconcile(root)  # the decisions carried into the new master
    decided = root / "decided.xlsx"
    shutil.copyfile(root / "master.xlsx", decided)
    return {"undecided": undecided, "decided": decided}


def _submissions(book) -> dict[str, dict[str, object]]:
    """The Summary's Submissions table: code -> header -> cell."""
    ws = book["Summary"]
    title = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "Submissions")
    header = [c.value for c in ws[title + 1]]
    return {
        ws.cell(r, 1).value: {h: ws.cell(r, c) for c, h in enumerate(header, 1) if h}
        for r in range(title + 2, ws.max_row + 1)
        if ws.cell(r, 1).value
    }


def _facts(book) -> dict[str, object]:
    ws = book["Summary"]
    return {ws.cell(r, 1).value: ws.cell(r, 2) for r in range(1, 20) if ws.cell(r, 1).value}


def _by_first_column(book, sheet: str) -> dict[str, dict[str, object]]:
    ws = book[sheet]
    header = [c.value for c in ws[1]]
    return {
        ws.cell(r, 1).value: {h: ws.cell(r, c) for c, h in enumerate(header, 1) if h}
        for r in range(2, ws.max_row + 1)
        if ws.cell(r, 1).value
    }


def _tiles(book) -> dict[str, object]:
    ws = book["Dashboard"]
    return {ws.cell(5, c).value.split(" (")[0]: ws.cell(4, c) for c in range(1, 13) if ws.cell(5, c).value}


def test_decided_figures_are_live_formulas_with_the_hand_computed_values_cached(masters):
    formulas = openpyxl.load_workbook(masters["decided"])
    cached = openpyxl.load_workbook(masters["decided"], data_only=True)
    submissions, live = _submissions(cached), _submissions(formulas)
    for code, (decided, undecided, budget, approved, headcount, approved_heads) in DEPARTMENTS.items():
        row = submissions[code]
        assert row["Decided"].value == decided and row["Undecided"].value == undecided, code
        assert row["Budget"].value == pytest.approx(budget) and row["Headcount"].value == pytest.approx(headcount)
        assert row["Approved budget"].value == pytest.approx(approved), code
        assert row["Approved headcount"].value == pytest.approx(approved_heads), code
        for name in ("Decided", "Undecided", "Approved budget", "Approved headcount"):
            assert str(live[code][name].value).startswith("="), (code, name)
    assert "SUMIFS(" in live["MKT"]["Approved budget"].value and "COUNTIFS(" in live["MKT"]["Decided"].value
    assert submissions["OPS"]["Decided"].value == 0 and submissions["OPS"]["Approved budget"].value == 0

    facts = _facts(cached)
    assert facts["Initiatives decided"].value == 6
    assert cached["Summary"].cell(facts["Initiatives decided"].row, 3).value == "of 7"
    assert facts["Budget approved"].value == pytest.approx(700000)
    assert facts["Headcount approved"].value == pytest.approx(5.5)

    commitments = _by_first_column(cached, "Commitments")
    for objective, (budget, heads) in OBJECTIVES.items():
        assert commitments[objective]["Approved budget"].value == pytest.approx(budget), objective
        assert commitments[objective]["Approved headcount"].value == pytest.approx(heads), objective
    assert commitments["CO2"]["Approved budget"].value == 0
    assert commitments["Total"]["Approved budget"].value == pytest.approx(700000)
    assert commitments["Total"]["Approved headcount"].value == pytest.approx(5.5)
    assert _by_first_column(formulas, "Commitments")["CO1"]["Approved budget"].value.startswith("=SUMIF(")

    # the Contributions table: each share's approved amount, a formula on its initiative's own row
    ws, live_ws = cached["Contributions"], formulas["Contributions"]
    header = [c.value for c in ws[1]]
    shares = {}
    for r in range(2, ws.max_row + 1):
        key = (ws.cell(r, 2).value, ws.cell(r, 3).value)
        shares[key] = (ws.cell(r, header.index("Approved budget") + 1).value, r)
        formula = live_ws.cell(r, header.index("Approved budget") + 1).value
        # its initiative's own row first (checked to be still that initiative's: department, id); the
        # lookup by department and id only when the table was sorted since (IF evaluates one branch)
        own, lookup = formula.split(",IF(OR(", 1)[0], formula.rsplit("*$D", 1)[0]
        assert re.fullmatch(rf"=IF\(AND\('Initiatives'!\$A\d+=\$A{r},'Initiatives'!\$B\d+=\$B{r}\)", own), formula
        assert "SUMIFS(" in lookup and f"$A{r}" in lookup and "MATCH" not in formula
    assert shares[("MKT-I04", "CO1")][0] == pytest.approx(120000)
    assert shares[("MKT-I04", "CO5")][0] == pytest.approx(80000)
    assert shares[("SAL-I02", "CO5")][0] == 0 and shares[("SAL-I03", "CO1")][0] == 0

    tiles = _tiles(cached)
    assert tiles["Initiatives decided"].value == 6 and tiles["Budget approved"].value == pytest.approx(700000)
    assert tiles["Budget requested"].value == pytest.approx(1170000)


def test_without_decisions_everything_is_undecided_and_nothing_approved(masters):
    cached = openpyxl.load_workbook(masters["undecided"], data_only=True)
    for code, row in _submissions(cached).items():
        assert row["Decided"].value == 0 and row["Undecided"].value == row["Initiatives"].value, code
        assert row["Approved budget"].value == 0 and row["Approved headcount"].value == 0, code
    assert _submissions(cached)["MKT"]["Undecided"].value == 4
    facts = _facts(cached)
    assert (facts["Initiatives decided"].value, facts["Budget approved"].value) == (0, 0)
    assert all(row["Approved budget"].value == 0 for row in _by_first_column(cached, "Commitments").values())
    tiles = _tiles(cached)
    assert tiles["Initiatives decided"].value == 0 and tiles["Budget approved"].value == 0


FIGURE_SHEETS = ("Dashboard", "Summary", "Commitments", "Contributions")


@pytest.mark.libreoffice
def test_libreoffice_computes_the_cached_values(masters, tmp_path):
    """Both masters recalculated by Calc (one call): every formula of the sheets with review figures holds
    what the master cached."""
    files = [masters["undecided"], masters["decided"], _sorted_by_finance(masters["decided"], tmp_path)]
    recalculated = convert(files, "xlsx", tmp_path / "lo")
    checked = 0
    # the sorted master must compute what the unsorted one cached: sorting moves no figure
    for original, again in zip([*files[:2], masters["decided"]], recalculated):
        formulas = openpyxl.load_workbook(original)
        cached = openpyxl.load_workbook(original, data_only=True)
        calc = openpyxl.load_workbook(again, data_only=True)
        mismatches = []
        for sheet in FIGURE_SHEETS:
            for row in formulas[sheet].iter_rows():
                for cell in row:
                    if not (isinstance(cell.value, str) and cell.value.startswith("=")):
                        continue
                    mine, theirs = cached[sheet][cell.coordinate].value, calc[sheet][cell.coordinate].value
                    checked += 1
                    if isinstance(mine, (int, float)) and isinstance(theirs, (int, float)):
                        if theirs != pytest.approx(mine, abs=1e-6):
                            mismatches.append((sheet, cell.coordinate, mine, theirs))
                    elif (mine in ("", None)) != (theirs in ("", None)) or (mine not in ("", None) and mine != theirs):
                        mismatches.append((sheet, cell.coordinate, mine, theirs))
        assert mismatches == [], original.name
    assert checked > 300


def _sorted_by_finance(master: Path, folder: Path) -> Path:
    """The master with its Initiatives table sorted by finance (rows reversed, every cell of a row moving
    with it, as Excel's sort moves them): the Contributions rows' references now point at other rows."""
    book = openpyxl.load_workbook(master)
    ws = book["Initiatives"]
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=2)]
    assert len(rows) > 3 and rows != rows[::-1]
    for r, values in enumerate(reversed(rows), 2):
        for c, value in enumerate(values, 1):
            ws.cell(r, c).value = value
    out = folder / "sorted.xlsx"
    book.save(out)
    return out
