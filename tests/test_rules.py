"""intake/rules.py on its own: the Python twins of the formulas against spec/values.py, and the rule catalogue.

The in-sheet checks and reconcile agree because of two facts tested here for any value: what the
sheet accepts, reconcile can read (so the sheet never stays silent on a reconcile error), and what
the sheet calls blank, reconcile calls blank. Where reconcile reads more than the sheet accepts, it
reports ``read-leniently``, so the two still name the same cells.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cascadebook.findings import CATALOGUE
from cascadebook.intake.formulas import LIST_KINDS, NUMBER_KINDS, sheet_blank, sheet_in, sheet_text, sheet_trim
from cascadebook.intake.rules import ROW_RULES, VALUE_TYPE, on_return_only
from cascadebook.intake.sheet_checks import sheet_checks
from cascadebook.intake.validate import validate_records
from cascadebook.model import Record
from cascadebook.spec.schema import Column, load_spec, parse_spec
from cascadebook.spec.values import BLANK_MARKERS, parse_value

PERIODS = ("Q1", "Q2", "Q3", "Q4")
COLUMNS = [
    Column("x", "X", kind, choices=("Team", "Individual", "None") if kind == "choice" else ())
    for kind in sorted(NUMBER_KINDS | LIST_KINDS | {"reference", "allocation", "text"})
]
TYPED = [c for c in COLUMNS if c.type in NUMBER_KINDS | LIST_KINDS]
TYPED_TEXT = st.one_of(
    st.sampled_from(
        [
            "15%",
            "1,200",
            "$250k",
            "ten",
            "Q3",
            "q3 ",
            "Q3 2027",
            "Q9",
            "soon",
            "yes",
            "NO",
            "x",
            "0",
            "1",
            "team",
            "Indi vidual",
            "INDIVIDUAL",
            "n/a",
            " N/A ",
            "-",
            "none",
            "None",
            "TBD",
            "?",
            "2027-06-30",
            "30/06/2027",
            "1.200,50",
            "(5)",
            "5e3",
            " ",
            "",
            "12.5",
            "-3",
        ]
    ),
    st.text(alphabet="0123456789 .,%$-qQhHyesnoa/", max_size=8),
)
RAW = st.one_of(
    TYPED_TEXT,
    st.integers(-(10**6), 10**6),
    st.floats(-1e9, 1e9, allow_nan=False),
    st.none(),
    st.datetimes(dt.datetime(1960, 1, 1), dt.datetime(2100, 1, 1)),
)


@settings(max_examples=400, deadline=None)
@given(raw=RAW, col=st.sampled_from(TYPED))
def test_what_the_sheet_accepts_reconcile_reads(raw, col):
    if isinstance(raw, dt.datetime) and col.type in ("number", "currency", "percent", "integer"):
        return  # a date in a number column: a number to the sheet, an error to reconcile (documented)
    parsed = parse_value(raw, col.type, choices=col.choices, periods=PERIODS, cycle_year=2027)
    if VALUE_TYPE.sheet_accepts(col, raw, PERIODS):
        assert parsed.error is None, (raw, col.type, parsed)


@settings(max_examples=400, deadline=None)
@given(
    raw=st.one_of(TYPED_TEXT, st.sampled_from(sorted(BLANK_MARKERS)), st.none(), st.integers(-5, 5)),
    col=st.sampled_from(COLUMNS),
)
def test_the_sheet_and_reconcile_agree_on_blank(raw, col):
    parsed = parse_value(raw, col.type, choices=col.choices, periods=PERIODS, cycle_year=2027)
    assert sheet_blank(col, raw) == parsed.blank, (raw, col.type)


def test_documented_differences_stay_documented():
    number = Column("x", "X", "number")
    # Excel's TRIM keeps a non-breaking space: blank to reconcile, not to the sheet
    assert parse_value("\u00a0", "number").blank and not sheet_blank(number, "\u00a0")
    # a date in a number column: the sheet sees a number
    assert VALUE_TYPE.sheet_accepts(number, dt.datetime(2027, 6, 30), PERIODS)
    assert parse_value(dt.datetime(2027, 6, 30), "number").error


def test_twins_read_cells_as_the_formulas_do():
    assert sheet_trim("  a   b  ") == "a b" and sheet_trim("a\tb ") == "a\tb"
    assert sheet_text(12.0) == "12" and sheet_text(0.15) == "0.15" and sheet_text(True) == "TRUE"
    assert sheet_text(dt.date(2027, 1, 1)) == "46388"  # the serial Excel stores
    assert sheet_in(" Q3 ", "|q1|q3|") and not sheet_in("Q3 2027", "|q1|q3|") and not sheet_in("q", "|q1|")


def test_read_leniently_names_what_the_sheet_flags_and_reconcile_read():
    spec = load_spec()
    kpi = Record(
        "kpis",
        "MKT",
        "f.xlsx",
        "KPIs",
        5,
        {
            "id": "MKT-K01",
            "initiative_id": "MKT-I01",
            "level": "team",
            "owner": "o",
            "name": "n",
            "target": "1,200",
            "due_period": "Q3 2027",
            "frequency": "monthly",
        },
        {k: f"{c}5" for k, c in zip(("id", "initiative_id", "level", "target", "due_period"), "ABCIK")},
    )
    from cascadebook import load_strategy
    from conftest import SAMPLE_STRATEGY

    _, findings = validate_records(load_strategy(SAMPLE_STRATEGY), spec, {"kpis": [kpi]}, "MKT")
    got = {(f.code, f.cell): f.message for f in findings}
    assert got[("read-leniently", "I5")] == "Target '1,200' was read as 1200; the template asks for a number"
    assert got[("read-leniently", "K5")] == (
        "Due period 'Q3 2027' was read as 'Q3'; the template asks for a period from the list"
    )
    assert ("untitled-initiative", "B5") in got  # MKT-I01 is prefilled, but its row is empty
    assert not any(code in ("read-leniently", "wrong-type") and cell == "C5" for code, cell in got)  # "team"


def test_rules_and_on_return_codes_are_in_the_catalogue():
    shown = set().union(*(r.sheet_codes for r in ROW_RULES))
    later = on_return_only()
    assert {"value-interpreted", "formula-text", "id-assigned", "split-not-100"} <= set(later)
    assert not shown & set(later)
    for code in shown | set(later):
        assert CATALOGUE[code].scope == "row", code


def test_messages_are_unique_per_sheet_and_counted_under_their_code():
    spec = load_spec()
    for sheet in spec.sheets:
        checks = sheet_checks(spec, sheet.key, PERIODS, 4)
        messages = [c.message for c in checks.checks]
        assert len(messages) == len(set(messages)) and not any(";" in m for m in messages)
        assert set(checks.kinds) == {c.code for c in checks.checks}
        for check in checks.checks:
            assert check.code in check.codes and f'"; {check.message};"' in checks.count_formula(check.code)


def test_an_option_with_a_bar_is_left_to_the_return():
    data = {
        "name": "t",
        "sheets": [
            {
                "key": "s",
                "title": "S",
                "input_rows": 3,
                "columns": [
                    {"key": "id", "header": "ID", "prefilled": True},
                    {"key": "pick", "header": "Pick", "type": "choice", "choices": ["a|b", "c"], "required": True},
                ],
            }
        ],
    }
    spec = parse_spec(data)
    checks = sheet_checks(spec, "s", PERIODS, 4)
    assert [c.code for c in checks.checks if c.key == "pick"] == ["required-missing"]
    assert "a|b" not in checks.check_formula


@pytest.mark.parametrize("kind", sorted(LIST_KINDS))
def test_list_checks_are_case_and_space_insensitive_like_reconcile(kind):
    col = next(c for c in TYPED if c.type == kind)
    value = {"choice": "  team ", "period": "q2", "boolean": " Yes"}[kind]
    assert VALUE_TYPE.sheet_accepts(col, value, PERIODS)
    assert parse_value(value, kind, choices=col.choices, periods=PERIODS).ok
