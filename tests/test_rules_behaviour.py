"""intake/rules.py as a table: a row as a department types it, the findings reconcile gives, and what
the template's Check column says about the same row while it is typed.

Rows are hand-built records (as the reader hands them over: the values typed, the cell of each) of
the bundled department spec and the sample strategy (CO1 is to increase, CO5 to decrease). Reconcile's
side is ``validate_records``; the sheet's side is the Check column formula that ``sheet_checks`` writes,
evaluated by tests/sheet_formula.py (LibreOffice does the same in tests/test_livecheck.py, slowly).
Both sides come from the same rule, so each row states both.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from cascadebook import load_strategy
from cascadebook.intake.formulas import blank_markers, id_range_name, key_letter, title_range_name
from cascadebook.intake.rules import DIRECTION, VALUE_TYPE, Context, Direction, Row, on_return_only
from cascadebook.intake.sheet_checks import sheet_checks
from cascadebook.intake.validate import Checking, validate_records
from cascadebook.model import Record
from cascadebook.spec.schema import Column, load_spec, parse_spec
from cascadebook.spec.values import parse_value
from conftest import SAMPLE_STRATEGY
from sheet_formula import Sheet

FIRST = 5  # the first data row (headers on row 4)
DEPT = "MKT"


@pytest.fixture(scope="module")
def strategy():
    return load_strategy(SAMPLE_STRATEGY)


@pytest.fixture(autouse=True)
def fresh_checks():
    """The sheet's formulas are made once per spec; made again here so each test sees the rules as they are."""
    sheet_checks.cache_clear()
    yield
    sheet_checks.cache_clear()


def initiative(objective: str = "CO1", baseline: Any = 40, target: Any = 150, **extra: Any) -> dict[str, Any]:
    row = dict(
        objective_id=objective,
        title="Campaign",
        expected_impact="150 leads",
        unit="count",
        baseline=baseline,
        target=target,
        due_period="Q3",
        owner="Priya",
    )
    row.update(extra)
    return {k: v for k, v in row.items() if v is not None}


def kpi(initiative_id: str = "MKT-I01", **extra: Any) -> dict[str, Any]:
    row = dict(initiative_id=initiative_id, level="Team", owner="Kim", name="Leads", unit="count", baseline=1, target=5)
    row.update(extra)
    return {k: v for k, v in row.items() if v is not None}


def records(spec, sheet_key: str, rows: list[dict[str, Any]]) -> list[Record]:
    """Rows typed from the first data row down; the prefilled ids go with the first rows unless typed."""
    sheet = spec.sheet(sheet_key)
    out = []
    for i, values in enumerate(rows):
        if "id" not in values and i < sheet.prefilled_rows:
            values = {"id": sheet.make_id(DEPT, i + 1), **values}
        cells = {c.key: f"{key_letter(sheet, c.key)}{FIRST + i}" for c in sheet.columns}
        out.append(Record(sheet_key, DEPT, "MKT.xlsx", sheet.title, FIRST + i, values, cells))
    return out


def reconcile_says(
    strategy, spec, typed: Mapping[str, list[dict[str, Any]]], checking: Checking | None = None, on: str = ""
):
    """{(code, cell): message} of the rules' findings on these rows (``on``: of this sheet only)."""
    given = {key: records(spec, key, rows) for key, rows in typed.items()}
    _, findings = validate_records(strategy, spec, given, DEPT, **({"checking": checking} if checking else {}))
    return {(f.code, f.cell): f.message for f in findings if not on or f.sheet == spec.sheet(on).title}


def sheet_says(strategy, spec, typed: Mapping[str, list[dict[str, Any]]], sheet_key: str) -> list[set[str]]:
    """The Check column's messages on each typed row of ``sheet_key``, as the template computes them."""
    cells: dict[str, dict[str, Any]] = {}
    names: dict[str, Any] = {
        "BlankMarkers": blank_markers(),
        "ObjectiveIds": [o.id for o in strategy.objectives],
        "ObjectiveDirections": [o.direction for o in strategy.objectives],
    }
    for sheet in spec.sheets:
        here = cells.setdefault(sheet.title, {})
        last = FIRST + sheet.input_rows - 1
        for record in records(spec, sheet.key, typed.get(sheet.key, [])):
            for key, value in record.values.items():
                here[record.cells[key]] = value
        if not sheet.by_role("id"):
            continue
        for n in range(1, sheet.prefilled_rows + 1):  # the template writes the prefilled ids
            here.setdefault(f"{key_letter(sheet, sheet.key_of('id'))}{FIRST + n - 1}", sheet.make_id(DEPT, n))
        for key, name in (("id", id_range_name(sheet)), ("title", title_range_name(sheet))):
            letter = key_letter(sheet, sheet.key_of(key))
            names[name] = f"='{sheet.title}'!${letter}${FIRST}:${letter}${last}"
    sheet = spec.sheet(sheet_key)
    checks = sheet_checks(spec, sheet_key, tuple(strategy.periods), FIRST - 1)
    book = Sheet(cells, names, sheet.title)
    said = []
    for i in range(len(typed[sheet_key])):
        text = book.evaluate(checks.check_formula, FIRST + i)
        said.append({m for m in text.split("; ") if m})
    return said


# ---- one initiative row: what each side says ------------------------------------------------------

I5 = {k: f"{key_letter(load_spec().sheet('initiatives'), k)}5" for k in ("id", "objective_id", "title", "target")}
INITIATIVE_ROWS = [
    # (what is typed over a clean row, reconcile's findings {(code, key): message}, the sheet's messages)
    ({}, {}, set()),
    ({"title": "  "}, {("required-missing", "title"): "Initiative is required"}, {"Initiative missing"}),
    (
        {"title": "=SUM(A1:A3)"},
        {
            ("formula-text", "title"): "Initiative starts with '=' and would run as a formula in "
            "a spreadsheet; kept as text"
        },
        set(),
    ),
    ({"title": "+6 enterprise logos"}, {}, set()),
    (
        {"target": "ten"},
        {("wrong-type", "target"): "Target should be a number, found 'ten'"},
        {"Target not a number"},
    ),
    (
        {"target": "1,200"},
        {("read-leniently", "target"): "Target '1,200' was read as 1200; the template asks for a number"},
        {"Target not a number"},
    ),
    (
        {"baseline": "1.200", "target": 150},
        {
            ("read-leniently", "baseline"): "Baseline '1.200' was read as 1.2 (a dot is a decimal point); "
            "the template asks for a number"
        },
        {"Baseline not a number"},
    ),
    ({"target": "n/a"}, {("required-missing", "target"): "Target is required"}, {"Target missing"}),
    ({"baseline": "n/a"}, {}, set()),
    (
        {"budget": "15%"},
        {("wrong-type", "budget"): "Budget should be an amount, not a percentage, found '15%'"},
        {"Budget not a number"},
    ),
    (
        {"contribution_weight": 60},
        {("value-interpreted", "contribution_weight"): "Weight: read 60 as 60%"},
        set(),
    ),
    (
        {"contribution_weight": "60%"},
        {
            (
                "read-leniently",
                "contribution_weight",
            ): "Weight '60%' was read as 0.6; the template asks for a number or percentage"
        },
        {"Weight not a percentage"},
    ),
    ({"unit": " COUNT "}, {}, set()),
    (
        {"unit": "kg"},
        {
            ("wrong-type", "unit"): "Unit should be one of %, count, currency, days, hours, points, ratio, "
            "score, found 'kg'"
        },
        {"Unit not from the list"},
    ),
    (
        {"due_period": "Q3 2026"},
        {("period-outside-cycle", "due_period"): "Due period 'Q3 2026' is not a period of FY2027 (Q1, Q2, Q3, Q4)"},
        {"Due period not from the list"},
    ),
    (
        {"due_period": "fy2026 h1"},
        {("period-outside-cycle", "due_period"): "Due period 'fy2026 h1' is not a period of FY2027 (Q1, Q2, Q3, Q4)"},
        {"Due period not from the list"},
    ),
    (
        {"due_period": "soon"},
        {("wrong-type", "due_period"): "Due period should be a period such as Q1, found 'soon'"},
        {"Due period not from the list"},
    ),
    (
        {"due_period": "Q3 2027"},
        {
            ("read-leniently", "due_period"): "Due period 'Q3 2027' was read as 'Q3'; the template asks for a period "
            "from the list"
        },
        {"Due period not from the list"},
    ),
    ({"due_period": " q3 "}, {}, set()),
    (
        {"objective_id": "CO9"},
        {
            ("unknown-objective", "objective_id"): "'CO9' is not an objective id (known: CO1, CO2, CO3, CO4, CO5, CO6, "
            "CO7)"
        },
        {"Objective not on the Objectives sheet"},
    ),
    ({"objective_id": "co1"}, {}, set()),
    ({"objective_id": "n/a"}, {("required-missing", "objective_id"): "Objective is required"}, {"Objective missing"}),
    # the direction: CO1 is to increase, CO5 to decrease
    (
        {"baseline": 40, "target": 30},
        {("target-direction", "target"): "CO1 is to increase but the target 30 is not above the baseline 40"},
        {"Target against the objective's direction"},
    ),
    (
        {"baseline": 40, "target": 40},
        {("target-direction", "target"): "CO1 is to increase but the target 40 is not above the baseline 40"},
        {"Target against the objective's direction"},
    ),
    ({"baseline": 40, "target": 40.5}, {}, set()),
    (
        {"objective_id": "CO5", "baseline": 5, "target": 7.5},
        {("target-direction", "target"): "CO5 is to decrease but the target 7.5 is not below the baseline 5"},
        {"Target against the objective's direction"},
    ),
    (
        {"objective_id": "co5", "baseline": 5, "target": 5},
        {("target-direction", "target"): "CO5 is to decrease but the target 5 is not below the baseline 5"},
        {"Target against the objective's direction"},
    ),
    ({"objective_id": "CO5", "baseline": 5, "target": 3}, {}, set()),
    ({"objective_id": "CO5", "baseline": -1, "target": -2}, {}, set()),
    (
        {"objective_id": "CO9", "baseline": 40, "target": 30},
        {
            ("unknown-objective", "objective_id"): "'CO9' is not an objective id (known: CO1, CO2, CO3, CO4, CO5, CO6, "
            "CO7)"
        },
        {"Objective not on the Objectives sheet"},
    ),
    ({"baseline": None, "target": 30}, {}, set()),
    (
        {"baseline": True, "target": 30},
        {("wrong-type", "baseline"): "Baseline should be a number, found TRUE"},
        {"Baseline not a number"},
    ),
]


@pytest.mark.parametrize("typed, found, shown", INITIATIVE_ROWS, ids=[str(r[0]) for r in INITIATIVE_ROWS])
def test_an_initiative_row(strategy, typed, found, shown):
    spec = load_spec()
    rows = {"initiatives": [initiative(**typed)], "kpis": [kpi()]}
    sheet = spec.sheet("initiatives")
    want = {(code, f"{key_letter(sheet, key)}5"): message for (code, key), message in found.items()}
    assert reconcile_says(strategy, spec, rows, on="initiatives") == want
    assert sheet_says(strategy, spec, rows, "initiatives") == [shown]


def test_every_finding_the_sheet_can_show_is_shown_by_the_sheet():
    """The table is about both sides: a code the sheet shows is on the sheet in the rows above."""
    later = set(on_return_only())
    for _, found, shown in INITIATIVE_ROWS:
        assert bool(shown) == any(code not in later for code, _ in found), (found, shown)


# ---- rows and the rows they refer to --------------------------------------------------------------


def test_ids_used_twice_and_initiatives_without_kpis(strategy):
    spec = load_spec()
    rows = {
        "initiatives": [
            initiative(),
            initiative(id="MKT-I01", title="Again"),
            initiative(id=" mkt-i01 ", title="Once more"),
            initiative(id="MKT-I13", title="Below the prefilled rows"),
            initiative(id="MKT-I14", title="Nothing measures it"),
        ],
        "kpis": [kpi("MKT-I01"), kpi("mkt-i13")],
    }
    got = reconcile_says(strategy, spec, rows)
    assert got == {
        ("duplicate-initiative", "A6"): "id MKT-I01 is also used on row 5",
        ("duplicate-initiative", "A7"): "id mkt-i01 is also used on row 5",
        ("initiative-without-kpis", "A9"): "MKT-I14 has nothing on the KPIs sheet",
    }
    assert sheet_says(strategy, spec, rows, "initiatives") == [
        set(),
        {"Initiative ID also used on an earlier row"},
        {"Initiative ID also used on an earlier row"},
        set(),
        {"Nothing on the KPIs sheet for it yet"},
    ]


KPI_ROWS = [
    ({}, {}, set()),
    ({"initiative_id": "mkt-i01"}, {}, set()),
    ({"initiative_id": "MKT-I20"}, {}, set()),  # a started row below the prefilled ones
    (
        {"initiative_id": "MKT-I13"},  # the first id after the prefilled ones, on no row
        {("unknown-initiative", "initiative_id"): "MKT-I13 is not an id on the Initiatives sheet"},
        {"Initiative ID not on the Initiatives sheet"},
    ),
    (
        {"initiative_id": "MKT-I99"},
        {("unknown-initiative", "initiative_id"): "MKT-I99 is not an id on the Initiatives sheet"},
        {"Initiative ID not on the Initiatives sheet"},
    ),
    (
        {"initiative_id": "MKT-I05"},  # prefilled by the template, its row left empty
        {("untitled-initiative", "initiative_id"): "MKT-I05 has no title on the Initiatives sheet"},
        {"Initiative ID has no title on the Initiatives sheet"},
    ),
    (
        {"initiative_id": "MKT-I02"},  # started, but without a title
        {("untitled-initiative", "initiative_id"): "MKT-I02 has no title on the Initiatives sheet"},
        {"Initiative ID has no title on the Initiatives sheet"},
    ),
    ({"level": "individual"}, {}, set()),
    (
        {"level": "Squad"},
        {("wrong-type", "level"): "Level should be one of Team, Individual, found 'Squad'"},
        {"Level not from the list"},
    ),
    ({"level": None}, {("required-missing", "level"): "Level is required"}, {"Level missing"}),
    ({"frequency": "n/a"}, {}, set()),
    (
        {"frequency": "daily"},
        {("wrong-type", "frequency"): "Frequency should be one of Weekly, Monthly, Quarterly, Annually, found 'daily'"},
        {"Frequency not from the list"},
    ),
    ({"id": "MKT-K01"}, {}, set()),
]


@pytest.mark.parametrize("typed, found, shown", KPI_ROWS, ids=[str(r[0]) for r in KPI_ROWS])
def test_a_kpi_row(strategy, typed, found, shown):
    spec = load_spec()
    initiatives = [
        initiative(),
        initiative(title=None, expected_impact="kept"),
        initiative(id="MKT-I20", title="Started below the prefilled rows"),
    ]
    rows = {"initiatives": initiatives, "kpis": [kpi(**typed), kpi("MKT-I02"), kpi("MKT-I20")]}
    sheet = spec.sheet("kpis")
    got = {k: v for k, v in reconcile_says(strategy, spec, rows).items() if k[1].endswith("5") and k[1][0] != "A"}
    got = {k: v for k, v in got.items() if k[1] in {f"{key_letter(sheet, c.key)}5" for c in sheet.columns}}
    want = {(code, f"{key_letter(sheet, key)}5"): message for (code, key), message in found.items()}
    assert {k: v for k, v in got.items() if not k[0].startswith("untitled") or k in want} == want
    assert sheet_says(strategy, spec, rows, "kpis")[0] == shown


# ---- how a check-in reads a row -------------------------------------------------------------------


def test_a_column_read_as_another_type_on_one_row(strategy):
    spec = load_spec()
    rows = {"initiatives": [initiative(baseline=0.1, target="15%")], "kpis": [kpi()]}
    as_percent = Checking(types=lambda record: {"target": "percent"})
    as_number = Checking(types=lambda record: {"target": "number"})
    said = "Target '15%' was read as 0.15; the template asks for a number or percentage"
    assert reconcile_says(strategy, spec, rows, as_percent, on="initiatives") == {("read-leniently", "H5"): said}
    assert reconcile_says(strategy, spec, rows, as_number, on="initiatives") == {
        ("read-leniently", "H5"): "Target '15%' was read as 0.15; the template asks for a number"
    }
    rows = {"initiatives": [initiative(baseline=0.1, target=15)], "kpis": [kpi()]}
    assert reconcile_says(strategy, spec, rows, as_percent, on="initiatives") == {
        ("value-interpreted", "H5"): "Target: read 15 as 15%"
    }


def test_without_live_checks_a_value_read_is_only_said_how(strategy):
    spec = load_spec()
    quiet = Checking(live=False)
    rows = {"initiatives": [initiative(baseline="1.200", target="1,200", due_period="Q3 2027")], "kpis": [kpi()]}
    assert reconcile_says(strategy, spec, rows, quiet) == {
        ("value-interpreted", "G5"): "Baseline: read '1.200' as 1.2 (a dot is a decimal point)"
    }


# ---- typed columns of other kinds, in a spec of one's own -----------------------------------------


def small_spec(*columns: dict[str, Any]):
    return parse_spec(
        {
            "name": "t",
            "sheets": [
                {
                    "key": "s",
                    "title": "S",
                    "input_rows": 5,
                    "columns": [{"key": "id", "header": "ID", "prefilled": True}, *columns],
                }
            ],
        }
    )


TYPED_ROWS = [
    # (column type, what is typed, reconcile's code or None, the sheet flags it)
    ("integer", 3, None, False),
    ("integer", 3.0, None, False),
    ("integer", 2.5, "wrong-type", True),
    ("integer", "3", "read-leniently", True),
    ("date", dt.datetime(2027, 6, 30), None, False),
    ("date", 46568, "value-interpreted", False),
    ("date", dt.datetime(1900, 3, 1), "read-leniently", True),
    ("date", dt.datetime(2220, 3, 1), "read-leniently", True),
    ("date", 100, "wrong-type", True),
    ("date", "30/06/2027", "read-leniently", True),
    ("boolean", "yes", None, False),
    ("boolean", " X ", None, False),
    ("boolean", True, None, False),
    ("boolean", "maybe", "wrong-type", True),
    ("number", 5, None, False),
    ("number", 5.5, None, False),
    ("number", "5", "read-leniently", True),
    ("percent", 0.5, None, False),
]


@pytest.mark.parametrize("kind, raw, code, flagged", TYPED_ROWS)
def test_typed_columns_of_every_kind(strategy, kind, raw, code, flagged):
    spec = small_spec({"key": "v", "header": "V", "type": kind})
    rows = {"s": [{"id": "MKT-S01", "v": raw}]}
    got = reconcile_says(strategy, spec, rows)
    assert {c for c, _ in got} == ({code} if code else set())
    shown = sheet_says(strategy, spec, rows, "s")[0]
    assert shown == ({"V not a date" if kind == "date" else f"V not {VALUE_TYPE.SAYS[kind]}"} if flagged else set())
    accepts = VALUE_TYPE.accepts(spec.sheet("s").column("v"), strategy.periods)
    assert accepts(raw) is not flagged  # what reconcile asks of the value to know the sheet flags it


@pytest.mark.parametrize(
    "kind, raw, accepted",
    [
        ("integer", 3, True),
        ("integer", 2.5, False),
        ("integer", True, False),
        ("date", 20000, True),
        ("date", 19999, False),
        ("date", 80000, True),
        ("date", 80001, False),
        ("number", True, False),
        ("number", 1, True),
        ("number", dt.date(2027, 1, 1), True),
        ("percent", "5%", False),
        ("period", "q2", True),
        ("period", "Q5", False),
        ("period", 2, False),
        ("choice", " b ", True),
        ("choice", "c", False),
        ("boolean", "no", True),
        ("boolean", "nope", False),
    ],
)
def test_what_the_sheet_takes_as_it_is(kind, raw, accepted):
    col = Column("v", "V", kind, choices=("a", "B") if kind == "choice" else ())
    periods = ("Q1", "Q2")
    assert VALUE_TYPE.sheet_accepts(col, raw, periods) is accepted
    accepts = VALUE_TYPE.accepts(col, periods)
    assert accepts(raw) is accepted and accepts(raw) is accepted  # the second time from what it kept


def test_a_listed_columns_look_ups_follow_the_periods_asked_for(strategy):
    spec = small_spec({"key": "v", "header": "V", "type": "period"})
    sheet = spec.sheet("s")
    quarters = VALUE_TYPE._accepting(sheet, ("Q1", "Q2"))
    halves = VALUE_TYPE._accepting(sheet, ("H1", "H2"))
    assert quarters[0][1]("Q1") and not quarters[0][1]("H1")
    assert halves[0][1]("H1") and not halves[0][1]("Q1")


# ---- the direction rule, as the model says it -----------------------------------------------------


def test_the_sheet_knows_which_moves_go_the_wrong_way():
    assert Direction.wrong_moves() == "|increase-1|increase0|decrease0|decrease1|"


def test_the_direction_check_is_only_on_a_sheet_with_an_objective_a_baseline_and_a_target(strategy):
    spec = load_spec()
    from cascadebook.intake.formulas import Env

    assert DIRECTION.check(Env(spec, spec.sheet("kpis"), ("Q1",), 4)) is None  # a KPI names an initiative
    check = DIRECTION.check(Env(spec, spec.sheet("initiatives"), ("Q1",), 4))
    assert check is not None and check.key == "target" and check.after == ("baseline", "target")
    assert DIRECTION.relevant(spec.sheet("initiatives"), spec) and not DIRECTION.relevant(spec.sheet("kpis"), spec)


def test_a_row_reads_a_column_as_its_own_type_unless_told_otherwise():
    spec = load_spec()
    sheet = spec.sheet("initiatives")
    target = sheet.column("target")
    record = Record("initiatives", DEPT, "f", "Initiatives", 5, {})
    plain = Row(sheet, record, {}, {"target": parse_value(1, "number")})
    assert plain.column(target) is target
    told = Row(sheet, record, {}, {}, {"target": "percent", "baseline": "number"})
    assert told.column(target).type == "percent" and told.column(target).key == "target"
    assert told.column(sheet.column("baseline")) is sheet.column("baseline")


# ---- a spec of one's own: a third sheet naming initiatives, ids in the last column -----------------


def wider_spec():
    """The department spec with a Risks sheet that names initiatives and objectives (two columns of
    them), and the KPI id moved to the last column: the rules find columns by role, not by place."""
    data = yaml.safe_load((Path(__file__).parents[1] / "workbook_templates" / "department.yaml").read_text())
    kpis = data["sheets"][1]
    kpis["columns"] = kpis["columns"][1:] + kpis["columns"][:1]
    risk = dict(type="reference", source="objectives")
    data["sheets"].append(
        {
            "key": "risks",
            "title": "Risks",
            "input_rows": 5,
            "columns": [
                {"key": "initiative_id", "header": "Initiative ID", "type": "reference", "source": "initiatives"},
                {"key": "risk", "header": "Risk", "type": "text"},
                {"key": "objective_id", "header": "Objective", **risk},
                {"key": "second", "header": "Second objective", **risk},
            ],
        }
    )
    return parse_spec(data)


def test_an_initiative_named_on_any_sheet_that_refers_to_initiatives_is_not_without_kpis(strategy):
    spec = wider_spec()
    rows = {
        "initiatives": [initiative(), initiative(title="Named by a risk"), initiative(title="Named nowhere")],
        "kpis": [kpi("MKT-I01")],
        "risks": [{"initiative_id": "MKT-I02", "risk": "late"}],
    }
    assert reconcile_says(strategy, spec, rows, on="initiatives") == {
        ("initiative-without-kpis", "A7"): "MKT-I03 has nothing on the KPIs or Risks sheet"
    }
    assert sheet_says(strategy, spec, rows, "initiatives") == [
        set(),
        set(),
        {"Nothing on the KPIs or Risks sheet for it yet"},
    ]


def test_an_id_used_twice_is_reported_at_the_id_cell_wherever_the_id_column_is(strategy):
    spec = wider_spec()
    rows = {"initiatives": [initiative()], "kpis": [kpi(), kpi(id="MKT-K01")]}
    assert reconcile_says(strategy, spec, rows, on="kpis") == {
        ("duplicate-initiative", "K6"): "id MKT-K01 is also used on row 5"
    }
    assert sheet_says(strategy, spec, rows, "kpis") == [set(), {"KPI ID also used on an earlier row"}]


def test_every_objective_column_of_a_row_is_checked(strategy):
    spec = wider_spec()
    rows = {
        "initiatives": [initiative()],
        "kpis": [kpi()],
        "risks": [
            {"initiative_id": "MKT-I01", "objective_id": "n/a", "second": "CO8"},
            {"initiative_id": "MKT-I01", "objective_id": "CO7", "second": "co2"},
        ],
    }
    assert reconcile_says(strategy, spec, rows, on="risks") == {
        ("unknown-objective", "D5"): "'CO8' is not an objective id (known: CO1, CO2, CO3, CO4, CO5, CO6, CO7)"
    }
    assert sheet_says(strategy, spec, rows, "risks") == [{"Second objective not on the Objectives sheet"}, set()]


# ---- the checks each sheet shows, and the cell each one turns red ---------------------------------


def test_each_check_of_the_sheet_is_at_the_column_reconcile_reports_it_at(strategy):
    spec = load_spec()
    periods = tuple(strategy.periods)
    initiatives = {(c.code, c.key, c.message) for c in sheet_checks(spec, "initiatives", periods, 4).checks}
    assert {
        ("unknown-objective", "objective_id", "Objective not on the Objectives sheet"),
        ("required-missing", "target", "Target missing"),
        ("wrong-type", "target", "Target not a number"),
        ("target-direction", "target", "Target against the objective's direction"),
        ("period-outside-cycle", "due_period", "Due period not from the list"),
        ("duplicate-initiative", "id", "Initiative ID also used on an earlier row"),
        ("initiative-without-kpis", "id", "Nothing on the KPIs sheet for it yet"),
    } <= initiatives
    kpis = {(c.code, c.key, c.message) for c in sheet_checks(spec, "kpis", periods, 4).checks}
    assert {
        ("unknown-initiative", "initiative_id", "Initiative ID not on the Initiatives sheet"),
        ("untitled-initiative", "initiative_id", "Initiative ID has no title on the Initiatives sheet"),
        ("wrong-type", "level", "Level not from the list"),
    } <= kpis
    for checks in (sheet_checks(spec, "initiatives", periods, 4), sheet_checks(spec, "kpis", periods, 4)):
        for check in checks.checks:
            assert check.code in check.codes
            # the status panel counts a value check under the codes reconcile gives the same cell
            listed = {"wrong-type": {"wrong-type", "read-leniently"}}
            listed["period-outside-cycle"] = {"period-outside-cycle", "wrong-type", "read-leniently"}
            assert check.codes == listed.get(check.code, {check.code}), check


def test_a_lists_check_takes_a_blank_only_when_asked():
    """``accepts_formula``: the value as it is; with ``or_blank`` a blank or an "n/a" word too (one look-up)."""
    col = Column("v", "V", "choice", choices=("Team", "Individual"))
    for typed, plain, or_blank in [
        ("team", True, True),
        ("n/a", False, True),
        (None, False, True),
        ("x", False, False),
    ]:
        book = Sheet({"S": {"A1": typed}}, {"BlankMarkers": blank_markers()}, "S")
        assert book.evaluate(VALUE_TYPE.accepts_formula(col, "A1", ()), 1) is plain, typed
        assert book.evaluate(VALUE_TYPE.accepts_formula(col, "A1", (), or_blank=True), 1) is or_blank, typed


def test_what_a_context_knows_without_rows(strategy):
    """Before any row is read, the ids on a sheet are the prefilled ones; the objectives are no sheet."""
    spec = load_spec()
    ctx = Context(strategy, spec, DEPT, {})
    assert ctx.known("initiatives", "mkt-i12") and not ctx.known("initiatives", "MKT-I13")
    assert not ctx.known("objectives", "CO1") and not ctx.known("risks", "MKT-I01")
    assert ctx.referenced == {"initiatives": set(), "kpis": set()}
    assert ctx.objective(" co5 ").id == "CO5" and ctx.objective("CO9") is None


def test_a_listed_column_tells_true_from_one():
    """TRUE is the text TRUE to the sheet, not 1: in a list of "1" and "2" a ticked box is not an option."""
    col = Column("v", "V", "choice", choices=("1", "2"))
    accepts = VALUE_TYPE.accepts(col, ())
    assert [accepts(v) for v in (1, True, 1.0, 2, False, "1", True)] == [True, False, True, True, False, True, False]
