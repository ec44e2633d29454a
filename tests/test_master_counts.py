"""The master's Alignment Matrix and Goal Hierarchy, cell by cell, against counts worked out by hand.

Issue 17: every number, formula, cached value and row of those two sheets is stated here for one small
cycle that has what real cycles have and the samples' fixtures lack: two (three) initiatives of one
department on one objective, a split over two objectives that leaves a share unaligned, an unknown
objective, a blank objective, an objective nobody serves, a department that has not returned, KPIs whose
initiative is unknown, blank, typed in another case or another department's.

Fast: the returns are built as the reader leaves them (validated records, no workbook is generated or
filled), consolidated with the library's own ``consolidate`` and written with ``write_master``; only the
master is a real file, opened with openpyxl (formulas and the cached values a viewer without
recalculation shows). Each formula is also worked out from the master's own cells (``recalculate``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import yaml

from cascadebook import load_strategy, write_master
from cascadebook.consolidate.packed import RecordList
from cascadebook.consolidate.progress import Item, ItemProgress, ProgressReport, Rollup, Thresholds
from cascadebook.consolidate.reconcile import consolidate, record_totals
from cascadebook.intake.reader import Return
from cascadebook.master import book as master_module
from cascadebook.master import hierarchy as hierarchy_module
from cascadebook.master.book import GAP_FILL
from cascadebook.model import Metadata, Record
from cascadebook.spec.schema import load_spec
from conftest import SAMPLE_STRATEGY

SPEC = load_spec("department")
INITIATIVES, KPIS = SPEC.sheet("initiatives"), SPEC.sheet("kpis")
OBJECTIVES = ("CO1", "CO2", "CO5")  # CO2: nobody serves it
DEPARTMENTS = ("MKT", "OPS", "SAL", "HR")  # HR: not returned; the sheets sort them: HR, MKT, OPS, SAL


def initiative(objective: Any, title: str, impact: str = "", **extra: Any) -> dict:
    row = dict(
        objective_id=objective,
        title=title,
        expected_impact=impact or None,
        unit="count",
        baseline=10,
        target=20,
        due_period="Q3",
        owner=f"{title} owner",
    )
    return {**row, **extra}


def kpi(parent: Any, name: str, level: str | None = "Team") -> dict:
    return dict(
        initiative_id=parent,
        level=level,
        team="Team A",
        owner="Kpi Owner",
        name=name,
        unit="days",
        baseline=9,
        target=7,
        due_period="Q4",
    )


RETURNS = {
    "MKT": (
        [
            initiative("CO1", "Campaign A", "150 leads"),  # MKT-I01
            initiative("co1", "Campaign B"),  # MKT-I02: the id in another case is CO1
            initiative("CO9", "Webinars", "40 leads"),  # MKT-I03: unknown objective
            initiative(None, "Split", "both", objective_split=(("CO1", 0.5), ("CO5", 0.3))),  # MKT-I04: 20% left
        ],
        [
            kpi("MKT-I01", "Leads"),  # MKT-K01
            kpi("mkt-i02", "Meetings", level="Individual"),  # MKT-K02: the initiative's id in another case
            kpi("MKT-I99", "Ghost"),  # MKT-K03: no such initiative
            kpi("MKT-I03", "Sign-ups"),  # MKT-K04: under the unaligned initiative
        ],
    ),
    "OPS": (
        [
            initiative("CO5", "Depots", unit="%", baseline=0.25, target=0.3),  # OPS-I01: a share
            initiative("CO5", "Routing", "1 day", objective_split=(("CO5", 0.6), ("CO1", 0.4))),  # OPS-I02
        ],
        [
            kpi("OPS-I02", "Route time"),  # OPS-K01: under both parts of the split
            kpi("MKT-I01", "Borrowed"),  # OPS-K02: another department's initiative: not OPS's
            kpi(None, "Orphan", level=None),  # OPS-K03: no initiative, no level
        ],
    ),
    "SAL": ([initiative(None, "Value selling")], []),  # SAL-I01: no objective
}


@pytest.fixture(scope="module")
def strategy(tmp_path_factory):
    data = yaml.safe_load(SAMPLE_STRATEGY.read_text(encoding="utf-8"))
    data["objectives"] = [o for o in data["objectives"] if o["id"] in OBJECTIVES]
    data["departments"] = [d for d in data["departments"] if d["code"] in DEPARTMENTS]
    path = tmp_path_factory.mktemp("strategy") / "strategy.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return load_strategy(path)


def _return(strategy, code: str, packed: bool) -> Return:
    """A department's return as the reader and the row rules leave it (ids prefilled by the template)."""
    file = f"returned/{code}.xlsx"
    records: dict[str, Any] = {}
    for sheet, rows in zip((INITIATIVES, KPIS), RETURNS[code]):
        made = [
            Record(sheet.key, code, file, sheet.title, 6 + n, {"id": sheet.make_id(code, n + 1), **values})
            for n, values in enumerate(rows)
        ]
        records[sheet.key] = RecordList(made).packed() if packed else made
    metadata = Metadata("2", strategy.cycle, code, SPEC.name, SPEC.version, "", "2027-01-04T09:00:00+00:00")
    ret = Return(file, file, metadata, "2027-01-10T09:00:00", records, status="accepted", validated=True)
    ret.totals = record_totals(records, SPEC)
    return ret


def reconciled(strategy, packed: bool = False):
    result = consolidate(strategy, SPEC, [_return(strategy, code, packed) for code in RETURNS], [])
    result.generated_at = "2027-01-11T09:00:00+00:00"
    return result


def master(result, path: Path) -> tuple[Any, Any]:
    """The master's formulas and its cached values."""
    out = write_master(result, path)
    return openpyxl.load_workbook(out), openpyxl.load_workbook(out, data_only=True)


# ------------------------------------------------------------------ recalculating the sheets' formulas

_RANGE = re.compile(r"^(?:'((?:[^']|'')+)'!)?\$?([A-Z]+)\$?(\d+):\$?([A-Z]+)\$?(\d+)$")
_CELL = re.compile(r"^\$?([A-Z]+)\$?(\d+)$")


def recalculate(values, sheet: str, formula: str) -> float:
    """What Excel makes of the SUM, COUNTIF and COUNTIFS (sums of them) these sheets write, from the
    cached values of the cells they refer to."""

    def cells(arg: str) -> list[Any]:
        m = _RANGE.match(arg)
        assert m, arg
        ws = values[(m.group(1) or sheet).replace("''", "'")]
        rows = ws.iter_rows(
            min_row=int(m.group(3)),
            max_row=int(m.group(5)),
            min_col=openpyxl.utils.column_index_from_string(m.group(2)),
            max_col=openpyxl.utils.column_index_from_string(m.group(4)),
            values_only=True,
        )
        return [v for row in rows for v in row]

    def criterion(arg: str) -> Any:
        if arg.startswith('"'):
            return arg[1:-1].replace('""', '"')
        m = _CELL.match(arg)
        assert m, arg
        return values[sheet][f"{m.group(1)}{m.group(2)}"].value

    def matches(value: Any, want: Any) -> bool:
        return isinstance(value, str) and isinstance(want, str) and value.casefold() == want.casefold()

    total = 0.0
    for term in formula.removeprefix("=").split("+"):
        name, args = re.fullmatch(r"(\w+)\((.*)\)", term).groups()
        parts = re.findall(r"(?:'(?:[^']|'')*'![^,]*|\"(?:[^\"]|\"\")*\"|[^,]+)", args)
        if name == "SUM":
            total += sum(v for p in parts for v in cells(p) if isinstance(v, (int, float)))
        elif name in ("COUNTIF", "COUNTIFS"):
            pairs = [(cells(parts[i]), criterion(parts[i + 1])) for i in range(0, len(parts), 2)]
            total += sum(all(matches(vs[i], w) for vs, w in pairs) for i in range(len(pairs[0][0])))
        else:
            raise AssertionError(f"unexpected function in {formula}")
    return total


# ------------------------------------------------------------------ the Alignment Matrix

# Initiatives per cell, by hand (a split initiative is a line in each of its objectives' cells and in
# Unaligned for the share no recognised objective takes):
#   MKT: CO1 = I01 + I02 (co1) + I04 (50%) = 3; CO5 = I04 (30%) = 1; Unaligned = I03 (CO9) + I04 (20%) = 2
#        Total = 3 + 0 + 1 + 2 = 6 lines; Initiatives = 4 rows
#   OPS: CO1 = I02 (40%) = 1; CO5 = I01 + I02 (60%) = 2; Total = 3; Initiatives = 2
#   SAL: Unaligned = I01 (no objective) = 1; Total = 1; Initiatives = 1
#   HR:  not returned: 0 everywhere
#   Total row: CO1 = 0 + 3 + 1 + 0 = 4; CO2 = 0; CO5 = 1 + 2 = 3; Unaligned = 2 + 1 = 3;
#              Total = 6 + 3 + 1 = 10 (= 7 allocations + 3 unaligned shares); Initiatives = 4 + 2 + 1 = 7
HEAT_HEADER = ["Department", "CO1", "CO2", "CO5", "Unaligned", "Total", "Initiatives"]
HEAT = {
    "HR": [0, 0, 0, 0, 0, 0],
    "MKT": [3, 0, 1, 2, 6, 4],
    "OPS": [1, 0, 2, 0, 3, 2],
    "SAL": [0, 0, 0, 1, 1, 1],
    "Total": [4, 0, 3, 3, 10, 7],
}
# The cells above: the initiatives' lines (id, title, share when split, "→ impact" when stated); a
# department that returned nothing on an objective has a blank cell; one that did not return says so.
CELLS = {
    "HR · Human Resources": ["not returned"] * 4,
    "MKT · Marketing": [
        "MKT-I01 Campaign A → 150 leads\nMKT-I02 Campaign B\nMKT-I04 Split (50%) → both",
        None,
        "MKT-I04 Split (30%) → both",
        "MKT-I03 Webinars → 40 leads\nMKT-I04 Split (20%) → both",
    ],
    "OPS · Operations": ["OPS-I02 Routing (40%) → 1 day", None, "OPS-I01 Depots\nOPS-I02 Routing (60%) → 1 day", None],
    "SAL · Sales": [None, None, None, "SAL-I01 Value selling"],
}
# Where each filled cell's link goes: the Initiatives table's row of the cell's first initiative
# (a header row, then MKT-I01..I04 on rows 2-5, OPS-I01..I02 on 6-7, SAL-I01 on 8).
LINKS = {("MKT", "B"): 2, ("MKT", "D"): 5, ("MKT", "E"): 4, ("OPS", "B"): 7, ("OPS", "D"): 6, ("SAL", "E"): 8}


@pytest.fixture
def books(strategy, tmp_path):
    """Written for each test that asks (not once a module): mutmut runs the tests that reach the function
    it mutated, and a test that only read a master written for another would not be among them."""
    return master(reconciled(strategy), tmp_path / "master.xlsx")


def _rows(ws) -> list[list[Any]]:
    return [list(row) for row in ws.iter_rows(values_only=True)]


def test_matrix_cells_list_each_departments_initiatives_per_objective(books):
    formulas, values = books
    rows = _rows(values["Alignment Matrix"])
    assert rows[0][:6] == [
        "Department",
        *(f"{o.id} · {o.title}" for o in _objectives(values)),
        "Unaligned (objective not recognised)",
        "Initiatives",
    ]
    assert {row[0]: row[1:5] for row in rows[1:5]} == CELLS
    assert rows[5][:7] == [None] * 7  # nothing more above the counts
    assert formulas["Alignment Matrix"].freeze_panes == "B2"  # departments and objectives stay in view
    # the Initiatives column: a live count of the department's rows of the Initiatives table (HR: none)
    fs = formulas["Alignment Matrix"]
    for r, want in zip(range(2, 6), (0, 4, 2, 1)):
        assert values["Alignment Matrix"][f"F{r}"].value == want, r
        assert recalculate(values, "Alignment Matrix", fs[f"F{r}"].value) == want, r


def _objectives(values) -> list[Any]:
    """The objectives as the Objectives sheet of the master lists them (id, title)."""
    rows = _rows(values["Goal Hierarchy"])
    return [type("O", (), {"id": row[1], "title": row[2]}) for row in rows if row[0] == "Objective"]


COUNTS_BELOW = 7  # a department's row in "Initiatives per cell" is its matrix row + 7 (4 departments, 3 rows between)


def test_matrix_links_go_to_the_first_initiative_of_the_cell(books):
    formulas, values = books
    ws, table = formulas["Alignment Matrix"], values[INITIATIVES.title]
    ids = {r: [c.value for c in row] for r, row in enumerate(table.iter_rows(), 1)}
    found = {}
    # The matrix cells are plain wrapped text (LibreOffice shows a linked cell as one line); each cell's
    # link is on its count in "Initiatives per cell", seven rows below the department's matrix row.
    for r, code in zip(range(2, 6), ("HR", "MKT", "OPS", "SAL")):
        for letter in "BCDE":
            assert ws[f"{letter}{r}"].hyperlink is None, f"{letter}{r}"
            link = ws[f"{letter}{r + COUNTS_BELOW}"].hyperlink
            if link is not None:
                sheet, cell = link.location.split("!")
                assert sheet.strip("'") == INITIATIVES.title and cell.startswith("A")
                found[(code, letter)] = int(cell[1:])
    assert found == LINKS
    first = {key: ws[f"{key[1]}{2 + ('HR', 'MKT', 'OPS', 'SAL').index(key[0])}"].value.split(" ")[0] for key in LINKS}
    for key, row in LINKS.items():
        assert first[key] in ids[row], (key, ids[row])  # the row holds the cell's first initiative


def test_matrix_links_stop_at_excels_limit_and_the_text_stays(strategy, tmp_path, monkeypatch):
    monkeypatch.setattr(master_module, "MAX_HYPERLINKS", 2)
    formulas, values = master(reconciled(strategy), tmp_path / "master.xlsx")
    ws = formulas["Alignment Matrix"]
    assert not [c.coordinate for row in ws.iter_rows(min_row=2, max_row=5) for c in row if c.hyperlink is not None]
    linked = [c.coordinate for row in ws.iter_rows(min_row=9, max_row=12) for c in row if c.hyperlink is not None]
    assert linked == ["B10", "D10"]  # the counts of MKT's first two filled cells, row by row
    assert {row[0]: row[1:5] for row in _rows(values["Alignment Matrix"])[1:5]} == CELLS


def test_matrix_counts_per_cell_cached_and_recalculated(books):
    formulas, values = books
    rows = _rows(values["Alignment Matrix"])
    assert rows[6][0] == "Initiatives per cell" and rows[7][:7] == HEAT_HEADER
    got = {row[0]: row[1:7] for row in rows[8:13]}
    assert got == HEAT  # the cached values, as a viewer that does not recalculate shows them
    fs, ws = formulas["Alignment Matrix"], values["Alignment Matrix"]
    for r in range(9, 14):
        for c in range(2, 8):
            cell = fs.cell(r, c)
            assert isinstance(cell.value, str) and cell.value.startswith("="), cell.coordinate
            # recalculated from the master's own tables, each formula gives the cached value
            assert recalculate(values, "Alignment Matrix", cell.value) == ws.cell(r, c).value, cell.coordinate
    assert rows[13][0].startswith("An initiative split over several objectives is counted in each")
    # the heatmap shades the objectives' counts (0 at the low end, 1 in the middle); any count in
    # Unaligned is flagged
    shading = {str(cf.sqref): [(r.type, r.operator, r.formula) for r in cf.rules] for cf in fs.conditional_formatting}
    assert shading == {"B9:D12": [("colorScale", None, [])], "E9:E12": [("cellIs", "greaterThan", ["0"])]}
    [scale] = [cf.rules[0].colorScale for cf in fs.conditional_formatting if str(cf.sqref) == "B9:D12"]
    assert [(v.type, v.val) for v in scale.cfvo][:2] == [("num", 0), ("num", 1)] and scale.cfvo[2].type == "max"
    assert len(rows) == 14


def test_matrix_without_returns_says_not_returned_and_counts_nothing(strategy, tmp_path):
    result = consolidate(strategy, SPEC, [], [])
    _, values = master(result, tmp_path / "master.xlsx")
    rows = _rows(values["Alignment Matrix"])
    assert [row[1:5] for row in rows[1:5]] == [["not returned"] * 4] * 4
    assert [row[1:7] for row in rows[8:13]] == [[0] * 6] * 5


# ------------------------------------------------------------------ the Goal Hierarchy

# Objectives in the strategy's order, each with its initiatives in the order they were returned (a split
# one under each of its objectives) and each initiative's KPIs under it (again under each part of a
# split); then Unaligned (initiatives no recognised objective takes, with their KPIs), then Unattached
# (KPIs whose initiative is not recognised: unknown, blank, or another department's).
INIT, K = "Initiative", "KPI"
HIERARCHY = [  # (level, Level, ID, Goal, Department, Metric / impact)
    (0, "Vision", None, "vision", None, None),
    (0, "Mission", None, "mission", None, None),
    (1, "Objective", "CO1", "objective", None, "metric"),
    (2, INIT, "MKT-I01", "Campaign A", "MKT", "150 leads"),
    (3, "Team KPI", "MKT-K01", "Leads", "MKT", "Team A"),
    (2, INIT, "MKT-I02", "Campaign B", "MKT", None),
    (3, "Individual KPI", "MKT-K02", "Meetings", "MKT", "Team A"),
    (2, INIT, "MKT-I04", "Split", "MKT", "both"),
    (2, INIT, "OPS-I02", "Routing", "OPS", "1 day"),
    (3, "Team KPI", "OPS-K01", "Route time", "OPS", "Team A"),
    (1, "Objective", "CO2", "objective", None, "metric"),
    (1, "Objective", "CO5", "objective", None, "metric"),
    (2, INIT, "MKT-I04", "Split", "MKT", "both"),
    (2, INIT, "OPS-I01", "Depots", "OPS", None),
    (2, INIT, "OPS-I02", "Routing", "OPS", "1 day"),
    (3, "Team KPI", "OPS-K01", "Route time", "OPS", "Team A"),
    (1, "Unaligned", None, "Unaligned (objective not recognised)", None, None),
    (2, INIT, "MKT-I03", "Webinars", "MKT", "40 leads"),
    (3, "Team KPI", "MKT-K04", "Sign-ups", "MKT", "Team A"),
    (2, INIT, "MKT-I04", "Split", "MKT", "both"),
    (2, INIT, "SAL-I01", "Value selling", "SAL", None),
    (1, "Unattached", None, "KPIs whose initiative is not recognised", None, None),
    (3, "Team KPI", "MKT-K03", "Ghost", "MKT", "Team A"),
    (3, "Team KPI", "OPS-K02", "Borrowed", "OPS", "Team A"),
    (3, K, "OPS-K03", "Orphan", "OPS", "Team A"),  # no level typed: just "KPI"
]
HEADERS = [
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
]


def expected_hierarchy(strategy) -> list[list[Any]]:
    """HIERARCHY's rows with every column, the objectives' and records' own values filled in."""
    objectives = {o.id: o for o in strategy.objectives}
    titles = {
        **{f"MKT-I0{n}": t for n, t in enumerate(("Campaign A", "Campaign B", "Webinars", "Split"), 1)},
        **{f"OPS-I0{n}": t for n, t in enumerate(("Depots", "Routing"), 1)},
        "SAL-I01": "Value selling",
    }
    out = []
    for level, kind, ident, goal, department, metric in HIERARCHY:
        if kind in ("Vision", "Mission"):
            out.append([kind, None, strategy.vision if kind == "Vision" else strategy.mission, *[None] * 8])
        elif kind == "Objective":
            o = objectives[ident]
            out.append([kind, o.id, o.title, None, o.owner, o.metric, o.baseline, o.target, o.unit, None, o.deadline])
        elif level == 1:
            out.append([kind, None, goal, *[None] * 8])
        elif level == 2:
            assert titles[ident] == goal
            numbers = [0.25, 0.3, "%"] if ident == "OPS-I01" else [10, 20, "count"]
            out.append([kind, ident, goal, department, f"{goal} owner", metric, *numbers, "Q3", None])
        else:
            out.append([kind, ident, goal, department, "Kpi Owner", metric, 9, 7, "days", "Q4", None])
    return out


def hierarchy_rows(values, sheet: str = "Goal Hierarchy") -> list[list[Any]]:
    rows = _rows(values[sheet])
    return [[None if v == "" else v for v in row[:11]] for row in rows]


def _outline(formulas, sheet: str = "Goal Hierarchy") -> list[int]:
    ws = formulas[sheet]
    return [ws.row_dimensions[r].outline_level for r in range(2, ws.max_row + 1)]


def _deadline(value: Any) -> Any:
    return value.date() if hasattr(value, "date") else value


def _same(got: list[list[Any]], want: list[list[Any]]) -> None:
    assert len(got) == len(want)
    for n, (g, w) in enumerate(zip(got, want)):
        assert [_deadline(v) for v in g] == [_deadline(v) for v in w], n


def test_hierarchy_rows_in_order_with_their_levels(strategy, books):
    formulas, values = books
    rows = hierarchy_rows(values)
    assert rows[0] == HEADERS
    _same(rows[1:], expected_hierarchy(strategy))
    # the outline finance folds: initiatives one level in, KPIs two; vision, mission and objectives at the top
    assert _outline(formulas) == [max(level - 1, 0) for level, *_ in HIERARCHY]
    ws = formulas["Goal Hierarchy"]
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:K1"
    # an objective's summary row is above its initiatives: folding hides the rows below it
    assert ws.sheet_properties.outlinePr.summaryBelow is False


def test_hierarchy_shows_baseline_and_target_in_the_rows_unit(strategy, books):
    """A share as a percentage (CO2's 0.12 is 12.0%, OPS-I01's 0.25 is 25.0%), counts and days as whole
    numbers, an objective's deadline as a date; the rows without numbers keep the general format."""
    ws = books[0]["Goal Hierarchy"]
    want = []
    for row in expected_hierarchy(strategy):
        unit = row[8] if len(row) > 8 else None
        number = {"%": "0.0%", "count": "#,##0", "days": "#,##0"}.get(unit, "General")
        want.append((number, number, "yyyy-mm-dd" if row[0] == "Objective" else "General"))
    got = [tuple(ws.cell(r, c).number_format for c in (7, 8, 11)) for r in range(2, ws.max_row + 1)]
    assert got == want
    assert got[10][0] == "0.0%" and got[13][0] == "0.0%"  # CO2 and OPS-I01


def test_hierarchy_of_packed_records_is_the_same(strategy, tmp_path):
    """Many departments: the records are packed (consolidate/packed.py) and the hierarchy is made
    department by department; the rows and their order do not change."""
    result = reconciled(strategy, packed=True)
    assert result.initiatives.is_packed and result.kpis.is_packed
    formulas, values = master(result, tmp_path / "master.xlsx")
    _same(hierarchy_rows(values)[1:], expected_hierarchy(strategy))
    assert _outline(formulas) == [max(level - 1, 0) for level, *_ in HIERARCHY]
    rows = _rows(values["Alignment Matrix"])
    assert {row[0]: row[1:5] for row in rows[1:5]} == CELLS and {row[0]: row[1:7] for row in rows[8:13]} == HEAT


def test_hierarchy_goes_on_in_a_continued_sheet_past_excels_last_row(strategy, tmp_path, monkeypatch):
    """10 rows a sheet (the header and 9): the next sheet repeats the objective it is in the middle of."""
    monkeypatch.setattr(master_module, "EXCEL_MAX_ROWS", 10)
    formulas, values = master(reconciled(strategy), tmp_path / "master.xlsx")
    want = expected_hierarchy(strategy)
    first, second, third = (
        hierarchy_rows(values, s) for s in ("Goal Hierarchy", *(f"Goal Hierarchy ({n})" for n in (2, 3)))
    )
    assert first[0] == second[0] == third[0] == HEADERS
    _same(first[1:], want[:9])
    co1 = want[2]
    # the 10th row (OPS-K01 under CO1) opens sheet 2 under "Objective (continued)" CO1
    _same(second[1:], [["Objective (continued)", *co1[1:]], *want[9:17]])
    # sheet 2 ends with the Unaligned section's own row; sheet 3 opens in its middle (MKT-I03)
    _same(third[1:], [["Unaligned (continued)", *want[16][1:]], *want[17:]])
    assert _outline(formulas, "Goal Hierarchy (3)") == [0, 1, 2, 1, 1, 0, 2, 2, 2]


def test_hierarchy_with_progress_writes_cell_by_cell_with_the_same_rows(strategy, tmp_path):
    """With check-ins the hierarchy is written cell by cell (Progress and RAG beside each row): the same
    rows, levels and outline, and each row's progress is its company's, objective's or item's (an item
    found by its sheet, its department and its id)."""
    result = reconciled(strategy)

    def item(sheet: str, code: str, ident: str, progress: float) -> dict:
        made = ItemProgress(Item(sheet, code, ident), "Q1", 1, "Q1", 1, progress, 0.25, "green")
        return {(sheet, code, ident.casefold()): {"Q1": made}}

    result.progress = ProgressReport(
        ("Q1",),
        Thresholds(),
        {
            **item("initiatives", "OPS", "OPS-I02", 0.6),
            **item("initiatives", "MKT", "OPS-I02", 0.9),  # another department's item of that id
            **item("kpis", "MKT", "MKT-K03", 0.3),
            **item("kpis", "OPS", "MKT-K03", 0.8),
        },
        {"CO5": {"Q1": Rollup("CO5", "Reduce", "Q1", 0.5, 0.25, "green", 1, 2)}},
        {},
        {"Q1": Rollup("", "Company", "Q1", 0.4, 0.25, "green", 1, 2)},
    )
    formulas, values = master(result, tmp_path / "master.xlsx")
    _same(hierarchy_rows(values)[1:], expected_hierarchy(strategy))
    assert _outline(formulas) == [max(level - 1, 0) for level, *_ in HIERARCHY]
    ws = values["Goal Hierarchy"]
    assert ws.cell(1, 12).value == "Progress Q1"
    progress = [(ws.cell(r, 1).value, ws.cell(r, 2).value, ws.cell(r, 12).value) for r in range(2, ws.max_row + 1)]
    shown = [p for p in progress if p[2] is not None]
    # the company's on the vision's row only; CO5's; OPS-I02 under CO1 and under CO5; MKT-K03 (MKT's)
    assert shown == [
        ("Vision", None, 0.4),
        ("Initiative", "OPS-I02", 0.6),
        ("Objective", "CO5", 0.5),
        ("Initiative", "OPS-I02", 0.6),
        ("Team KPI", "MKT-K03", 0.3),
    ]


def test_a_continued_objective_row_shows_its_progress_too(strategy, tmp_path, monkeypatch):
    """With check-ins and the hierarchy over two sheets, the repeated "Objective (continued)" row shows
    its objective's progress like the objective's own row."""
    monkeypatch.setattr(master_module, "EXCEL_MAX_ROWS", 10)
    result = reconciled(strategy)
    result.progress = ProgressReport(
        ("Q1",), Thresholds(), {}, {"CO1": {"Q1": Rollup("CO1", "Grow", "Q1", 0.7, 0.25, "green", 1, 2)}}, {}, {}
    )
    _, values = master(result, tmp_path / "master.xlsx")
    first, second = values["Goal Hierarchy"], values["Goal Hierarchy (2)"]
    assert (first.cell(4, 1).value, first.cell(4, 2).value, first.cell(4, 12).value) == ("Objective", "CO1", 0.7)
    assert (second.cell(2, 1).value, second.cell(2, 2).value, second.cell(2, 12).value) == (
        "Objective (continued)",
        "CO1",
        0.7,
    )


def _fill(cell) -> str | None:
    """A cell's solid fill as "#RRGGBB" (None: no fill)."""
    fill = cell.fill
    return None if fill is None or fill.fill_type is None else "#" + str(fill.fgColor.rgb)[-6:].upper()


def test_matrix_shades_the_objectives_a_department_returned_nothing_on(books):
    """A coverage gap stands out: an objective a returning department serves with no initiative is a
    shaded blank; a filled cell, a blank Unaligned cell and a department that did not return are not."""
    ws = books[0]["Alignment Matrix"]
    rows = {code: r for r, code in zip(range(2, 6), ("HR", "MKT", "OPS", "SAL"))}
    gaps = {(code, letter) for code, r in rows.items() for letter in "BCDE" if _fill(ws[f"{letter}{r}"]) == GAP_FILL}
    # CO2 (C) nobody serves; OPS serves neither CO2 nor has anything unaligned (E: not a gap); SAL only Unaligned
    assert gaps == {("MKT", "C"), ("OPS", "C"), ("SAL", "B"), ("SAL", "C"), ("SAL", "D")}
    assert all(ws[f"{letter}2"].value == "not returned" for letter in "BCDE")  # HR: said, not shaded


def test_hierarchy_vision_and_mission_are_a_filled_band_as_tall_as_their_text(strategy, books):
    formulas, _ = books
    ws = formulas["Goal Hierarchy"]
    band = _fill(ws["A2"])
    assert band is not None
    for r, text in ((2, strategy.vision), (3, strategy.mission)):
        # the label, the blank ID cell and the merged Goal..Metric band share the level's fill
        assert [_fill(ws.cell(r, c)) for c in (1, 2, 3)] == [band] * 3, r
        assert f"C{r}:F{r}" in {str(m) for m in ws.merged_cells.ranges}
        assert ws.cell(r, 3).value == text
        # the row is sized for its bold 12-point text (taller than Excel's default 15 points)
        assert ws.row_dimensions[r].height is not None and ws.row_dimensions[r].height > 15, r


def test_hierarchy_row_heights_follow_the_wrapped_goal_and_metric():
    """A goal that fits its column keeps Excel's default height (None); a longer one, or one with a line
    break, gets a taller row. Objectives are bold, so the same goal wraps sooner on an objective's row."""
    short, long_ = "Grow revenue", "Grow recurring revenue in every region " * 4
    assert hierarchy_module._height(2, ["Initiative", "X-I01", short, "", "", "a metric"]) is None
    assert hierarchy_module._height(2, ["Initiative", "X-I01", long_, "", "", "a metric"]) > 15
    two = hierarchy_module._height(2, ["Initiative", "X-I01", "one\ntwo", "", "", ""])
    assert two is not None and two > 15
    assert hierarchy_module._height(3, ["KPI", "X-K01", short, "", "", long_ * 2]) > 15  # the metric wraps too
    fits_plain = "word " * 11 + "words"  # 60 characters: one line plain (level 2), two lines bold (level 1)
    assert hierarchy_module._height(2, ["Initiative", "X-I01", fits_plain]) is None
    assert hierarchy_module._height(1, ["Objective", "CO1", fits_plain]) > 15
    assert hierarchy_module._one_line(None, 10) and hierarchy_module._one_line("short", 60)
    assert not hierarchy_module._one_line("a\nb", 60)


def test_a_sheet_that_starts_on_an_objective_repeats_nothing(strategy, tmp_path, monkeypatch):
    """11 rows a sheet: the 11th row of the hierarchy is CO2's own; sheet 2 opens with it, no
    "Objective (continued)" row before it (that row is only for an objective split over two sheets)."""
    monkeypatch.setattr(master_module, "EXCEL_MAX_ROWS", 11)
    _, values = master(reconciled(strategy), tmp_path / "master.xlsx")
    want = expected_hierarchy(strategy)
    first, second = (hierarchy_rows(values, s) for s in ("Goal Hierarchy", "Goal Hierarchy (2)"))
    _same(first[1:], want[:10])
    assert second[1][:2] == ["Objective", "CO2"]
    _same(second[1:], want[10:20])
