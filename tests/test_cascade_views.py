"""The master's views of a cascade (issue 20): the Goal Hierarchy traces every initiative through its chain
to its corporate objective, the Cascade sheet shows what each parent initiative's children commit, and
progress flows up the chain from check-ins.

Three levels: COM (aligned to the corporate objectives) -> MKT (aligned to COM's plan) -> WEB (aligned to
MKT's). Rounds generated, filled with openpyxl and reconciled as a person would; then a Q1 check-in from
every unit. Every figure below is worked out by hand from the rows typed.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import openpyxl
import pytest

from cascadebook import generate, load_key, load_strategy, reconcile, write_master
from cascadebook.consolidate.commitments import UNALIGNED
from cascadebook.cycle.cascade_round import generate_cascade
from cascadebook.cycle.checkin import generate_checkins
from cascadebook.intake.dispatch import checkin_spec
from cascadebook.master.cascade_sheet import CASCADE_SHEET, MATRIX_SHEET
from cascadebook.master.read import read_master
from cascadebook.spec.schema import resolve_spec
from conftest import clean_initiative, clean_kpi
from fill import fill_workbook
from org_strategy import write_org_strategy

UNITS = [
    ("COM", "Commercial", None, "objectives"),
    ("MKT", "Marketing", "COM", "parent"),
    ("WEB", "Web team", "MKT", "parent"),
]
COM_ROWS = [
    clean_initiative("CO1", "Win enterprise accounts", 60, 72, contribution=12),  # COM-I01: +12
    clean_initiative("CO3", "Brand campaign", 0.48, 0.75, unit="%", contribution=0.27),  # COM-I02: +27 points
]
MKT_ROWS = [
    clean_initiative("COM-I01", "Lead programme", 0, 8, contribution=8, contribution_weight="60%"),  # MKT-I01
    clean_initiative(  # MKT-I02: half for each of COM's initiatives, no contribution stated
        "COM-I01", "Events", 0, 4, objective_split="COM-I01 50% / COM-I02 50%", contribution_weight="40%"
    ),
    clean_initiative("CO6", "Straight to an objective", 31, 35, unit="points"),  # MKT-I03
]
WEB_ROWS = [
    clean_initiative("MKT-I01", "Landing pages", 0, 3, contribution=3),  # WEB-I01: 3 of MKT-I01's 8
    clean_initiative("MKT-I01", "Webinars", 0, 10, contribution=10),  # WEB-I02: with WEB-I01 13 of 8
]
WEB_KPIS = [clean_kpi("WEB-I01", "Page visits")]

# Q1 actuals and the progress they make, by hand.
COM_I02 = (0.60 - 0.48) / (0.75 - 0.48)  # its own actual, 60%
MKT_I02, MKT_I03 = 2 / 4, (33 - 31) / (35 - 31)
WEB_I01, WEB_I02 = 1.5 / 3, 2.5 / 10
MKT_I01 = (WEB_I01 + WEB_I02) / 2  # no actual: its children, no weights typed = equal
COM_I01 = (0.6 * MKT_I01 + 0.5 * 0.4 * MKT_I02) / (0.6 + 0.5 * 0.4)  # link weight x contribution weight


def _strategy(tmp: Path) -> Path:
    return write_org_strategy(tmp, UNITS)


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("chain")
    path = _strategy(tmp)
    strategy, key = load_strategy(path), load_key(path, create=True)
    spec = resolve_spec(None, strategy)
    returned = tmp / "returned"
    generate(strategy, tmp / "round1", key=key)
    fill_workbook(tmp / "round1" / "FY2027_COM.xlsx", returned / "COM.xlsx", rows={"initiatives": COM_ROWS})
    write_master(reconcile(strategy, [returned], key=key, jobs=1), tmp / "master1.xlsx")
    round2 = generate_cascade(strategy, tmp / "master1.xlsx", tmp / "round2", spec=spec, key=key)
    fill_workbook(round2.written[0], returned / "MKT.xlsx", rows={"initiatives": MKT_ROWS})
    write_master(reconcile(strategy, [returned], key=key, jobs=1), tmp / "master2.xlsx")
    round3 = generate_cascade(strategy, tmp / "master2.xlsx", tmp / "round3", spec=spec, key=key)
    web = next(p for p in round3.written if p.name.endswith("_WEB.xlsx"))
    fill_workbook(web, returned / "WEB.xlsx", rows={"initiatives": WEB_ROWS, "kpis": WEB_KPIS})
    plan = reconcile(strategy, [returned], key=key, jobs=1)
    write_master(plan, tmp / "master3.xlsx")
    made = {
        p.name.split("_")[1]: p
        for p in generate_checkins(strategy, read_master(tmp / "master3.xlsx"), tmp / "q1", "Q1", key=key)
    }
    checkins = tmp / "checkins"
    actuals = {
        "COM": [{}, dict(actual="60%", status="On track")],  # COM-I01 has no actual of its own
        "MKT": [{}, dict(actual=2, status="On track"), dict(actual=33, status="On track")],
        "WEB": [dict(actual=1.5, status="On track"), dict(actual=2.5, status="At risk")],
    }
    for code, rows in actuals.items():
        fill_workbook(made[code], checkins / f"{code}.xlsx", spec=checkin_spec(), rows={"initiatives": rows})
    q1 = reconcile(strategy, [returned, checkins], key=key, jobs=1)
    write_master(q1, tmp / "master_q1.xlsx")
    return dict(tmp=tmp, key=key, plan=plan, q1=q1, master=tmp / "master3.xlsx", master_q1=tmp / "master_q1.xlsx")


def _rows(ws, first=1):
    return [[c.value for c in row] for row in ws.iter_rows(min_row=first)]


def _hierarchy(path):
    ws = openpyxl.load_workbook(path)["Goal Hierarchy"]
    header = [c.value for c in ws[1]]
    at = {h: header.index(h) for h in header}
    rows = []
    for r, row in enumerate(ws.iter_rows(min_row=2, values_only=True), 2):
        rows.append((row, ws.row_dimensions[r].outline_level))
    return header, at, rows


CHAIN = [  # (kind, id, unit, org level, share, traces to, outline level)
    ("Objective", "CO1", None, None, None, None, 0),
    ("Initiative", "COM-I01", "COM", 1, 1, "CO1", 1),
    ("Initiative", "MKT-I01", "MKT", 2, 1, "CO1 › COM-I01", 2),
    ("Initiative", "WEB-I01", "WEB", 3, 1, "CO1 › COM-I01 › MKT-I01", 3),
    ("Team KPI", "WEB-K01", "WEB", 3, None, "CO1 › COM-I01 › MKT-I01 › WEB-I01", 4),
    ("Initiative", "WEB-I02", "WEB", 3, 1, "CO1 › COM-I01 › MKT-I01", 3),
    ("Initiative", "MKT-I02", "MKT", 2, 0.5, "CO1 › COM-I01", 2),  # split: under each parent, with its share
    ("Objective", "CO2", None, None, None, None, 0),
    ("Objective", "CO3", None, None, None, None, 0),
    ("Initiative", "COM-I02", "COM", 1, 1, "CO3", 1),
    ("Initiative", "MKT-I02", "MKT", 2, 0.5, "CO3 › COM-I02", 2),
    ("Objective", "CO4", None, None, None, None, 0),
    ("Objective", "CO5", None, None, None, None, 0),
    ("Objective", "CO6", None, None, None, None, 0),
    ("Initiative", "MKT-I03", "MKT", 2, 1, "CO6", 1),  # a level-2 unit's row aligned straight to an objective
    ("Objective", "CO7", None, None, None, None, 0),
]


@pytest.mark.parametrize("master", ["master", "master_q1"])  # streamed, and cell by cell beside progress
def test_the_goal_hierarchy_shows_the_whole_chain_outlined_by_level_and_traced_up(chain, master):
    header, at, rows = _hierarchy(chain[master])
    assert header[:14] == [
        "Level",
        "ID",
        "Goal",
        "Department",
        "Owner",
        "Metric / impact",
        "Baseline",
        "Target",
        "Unit",
        "Due period",
        "Due date",
        "Org level",
        "Share",
        "Traces to",
    ]
    got = [
        (row[0], row[1], row[at["Department"]], row[at["Org level"]], row[at["Share"]], row[at["Traces to"]], level)
        for row, level in rows[2:]  # after the vision and mission
    ]
    assert got == CHAIN
    if master == "master_q1":
        progress = {row[1]: row[at["Progress Q1"]] for row, _ in rows if row[0] == "Initiative"}
        assert progress["MKT-I01"] == pytest.approx(MKT_I01) and progress["COM-I01"] == pytest.approx(COM_I01)


def test_a_row_whose_chain_leads_nowhere_stays_in_unaligned(chain, tmp_path):
    """A WEB row naming an initiative MKT does not have is listed under Unaligned, not lost."""
    plan = chain["plan"]
    path = tmp_path / "master.xlsx"
    strategy = plan.strategy
    tmp = chain["tmp"]
    returned = tmp_path / "returned"
    for name in ("COM.xlsx", "MKT.xlsx"):
        (returned / name).parent.mkdir(parents=True, exist_ok=True)
        (returned / name).write_bytes((tmp / "returned" / name).read_bytes())
    web = next((tmp / "round3").glob("*_WEB.xlsx"))
    fill_workbook(web, returned / "WEB.xlsx", rows={"initiatives": [clean_initiative("MKT-I09", "Lost", 0, 1)]})
    result = reconcile(strategy, [returned], key=chain["key"], jobs=1)
    write_master(result, path)
    _, at, rows = _hierarchy(path)
    kinds = [row[0] for row, _ in rows]
    start = kinds.index(UNALIGNED)
    assert [(row[1], row[at["Traces to"]]) for row, _ in rows[start + 1 :]] == [
        ("WEB-I01", "leads nowhere: parent initiative not recognised")
    ]
    assert all(row[1] != "WEB-I01" for row, _ in rows[:start])


def test_the_cascade_sheet_shows_each_parent_initiatives_commitment_level_by_level(chain):
    book = openpyxl.load_workbook(chain["master"])
    values = openpyxl.load_workbook(chain["master"], data_only=True)[CASCADE_SHEET]
    ws = book[CASCADE_SHEET]
    assert [c.value for c in ws[4]] == [
        "Level",
        "Unit",
        "Initiative",
        "Title",
        "Serves",
        "Measure",
        "Target change",
        "Committed",
        "Gap",
        "Committed %",
        "Children",
        "Left out",
    ]
    rows = [[c.value for c in row] for row in values.iter_rows(min_row=5, max_row=7)]
    assert rows == [
        [1, "COM", "COM-I01", "Win enterprise accounts", "CO1", "count", 12, 8, 4, pytest.approx(8 / 12), 2, ""],
        [2, "MKT", "MKT-I01", "Lead programme", "CO1", "count", 8, 13, -5, pytest.approx(13 / 8), 2, ""],
        [1, "COM", "COM-I02", "Brand campaign", "CO3", "%", pytest.approx(0.27), 0, pytest.approx(0.27), 0, 1, ""],
    ]
    assert (ws["I5"].value, ws["J5"].value) == ("=G5-H5", '=IF(G5=0,"",H5/G5)')  # live, over the row's cells
    fills = [(ws[f"I{r}"].fill.fgColor.rgb or "")[-6:] for r in (5, 6, 7)]
    assert fills == ["F8CBAD", "FFE699", "000000"]  # shortfall, surplus, nothing stated: not shaded
    assert [ws.row_dimensions[r].outline_level for r in (5, 6, 7)] == [1, 2, 1]
    # the Cascade matrix: units aligned to a parent's plan x the parent initiatives, under their objective
    ws = book[MATRIX_SHEET]
    assert book.sheetnames.index(MATRIX_SHEET) == book.sheetnames.index(CASCADE_SHEET) + 1
    matrix = [[c.value for c in row][:5] for row in ws.iter_rows(min_row=4, max_row=7)]
    assert matrix == [
        ["Objective", "", "CO1", None, "CO3"],
        ["Unit", "Parent", "COM-I01", "MKT-I01", "COM-I02"],
        ["MKT", "COM", 1.5, None, 0.5],  # MKT-I01 whole and half of MKT-I02; the other half of MKT-I02
        ["WEB", "MKT", None, 2, None],
    ]
    assert "C4:D4" in {str(m) for m in ws.merged_cells.ranges}


def test_a_flat_master_has_no_cascade_sheets_nor_chain_columns(chain, tmp_path):
    """COM alone aligns to the corporate objectives: no unit aligns to a parent's plan, so no cascade."""
    returned = tmp_path / "returned"
    returned.mkdir()
    (returned / "COM.xlsx").write_bytes((chain["tmp"] / "returned" / "COM.xlsx").read_bytes())
    strategy = chain["plan"].strategy
    flat = replace(strategy, departments=[d for d in strategy.departments if d.code == "COM"])
    result = reconcile(flat, [returned], key=chain["key"], jobs=1)
    assert [(s.department, s.status) for s in result.sources] == [("COM", "accepted")]
    assert result.cascade is None
    book = openpyxl.load_workbook(write_master(result, tmp_path / "flat.xlsx"))
    assert CASCADE_SHEET not in book.sheetnames and MATRIX_SHEET not in book.sheetnames
    assert [c.value for c in book["Goal Hierarchy"][1]][-1] == "Due date"


def test_progress_flows_up_the_chain_and_objectives_count_only_chain_tops(chain):
    report = chain["q1"].progress
    item = lambda unit, ident: report.item("initiatives", unit, ident)  # noqa: E731
    assert item("WEB", "WEB-I01").progress == pytest.approx(WEB_I01)
    mkt1, com1 = item("MKT", "MKT-I01"), item("COM", "COM-I01")
    assert (mkt1.progress, mkt1.actual, mkt1.from_children) == (pytest.approx(MKT_I01), None, 2)
    assert (com1.progress, com1.from_children) == (pytest.approx(COM_I01), 2)
    assert (item("COM", "COM-I02").progress, item("COM", "COM-I02").from_children) == (pytest.approx(COM_I02), 0)
    # CO1 is COM-I01 alone (its children count through it); CO3 is COM-I02 alone (MKT-I02's half goes
    # through it too); CO6 is MKT-I03, a level-2 row aligned straight to the objective
    got = {o: report.objective(o) for o in ("CO1", "CO3", "CO6")}
    assert {o: (r.progress, r.coverage) for o, r in got.items()} == {
        "CO1": (pytest.approx(COM_I01), "1 of 1"),
        "CO3": (pytest.approx(COM_I02), "1 of 1"),
        "CO6": (pytest.approx(MKT_I03), "1 of 1"),
    }
    # a unit rolls up its own initiatives, a parent's by its children: MKT weights 60%, 40% and the mean
    assert report.department("MKT").progress == pytest.approx((0.6 * MKT_I01 + 0.4 * MKT_I02 + 0.5 * MKT_I03) / 1.5)
    assert report.department("COM").progress == pytest.approx((COM_I01 + COM_I02) / 2)


def test_the_progress_sheet_says_which_progress_comes_from_children(chain):
    ws = openpyxl.load_workbook(chain["master_q1"])["Progress"]
    cells = [[c.value for c in row] for row in ws.iter_rows()]
    start = next(r for r, row in enumerate(cells) if row[0] == "Through the cascade")
    assert cells[start + 2][:5] == ["Unit", "Initiative", "Title", "From children", "Q1"]
    got = [(row[0], row[1], row[3], row[4]) for row in cells[start + 3 : start + 6]]
    assert got == [
        ("COM", "COM-I01", "2 of 2", pytest.approx(COM_I01)),
        ("MKT", "MKT-I01", "2 of 2", pytest.approx(MKT_I01)),
        ("COM", "COM-I02", "own actual", pytest.approx(COM_I02)),
    ]
    co1 = next(row for row in cells if row[0] == "CO1")
    assert co1[4] == pytest.approx(COM_I01)
