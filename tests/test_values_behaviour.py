"""spec/values.py as a table: what a department types into a cell, and what reconcile reads from it.

Each row is one cell value and the reading the module docstring promises for it (a value, blank, an
error, and the note that says how it was read). The tables call the module directly with the raw
values openpyxl or python-calamine hand over (str, int, float, bool, date, datetime), so they are fast.
"""

from __future__ import annotations

import datetime as dt

import pytest

from cascadebook.spec.values import BLANK_MARKERS, Parsed, display, is_blank, note_reason, parse_value, value_parser

QUARTERS = ("Q1", "Q2", "Q3", "Q4")
KINDS_WITH_MARKERS = ("number", "currency", "integer", "percent", "date", "period", "boolean", "reference")


def reading(raw: object, kind: str, **options: object) -> tuple[object, bool, str | None, str | None]:
    """(value, blank, error, note) of ``parse_value``, checked against the column-bound parser."""
    p = parse_value(raw, kind, **options)
    bound = value_parser(kind, **options)  # type: ignore[arg-type]
    for _ in range(2):  # the second time from its kept readings
        q = bound(raw)
        assert (q.value, q.blank, q.error, q.note) == (p.value, p.blank, p.error, p.note), (raw, kind, p, q)
        assert type(q.value) is type(p.value), (raw, kind)
    return p.value, p.blank, p.error, p.note


# ---- notes and how values are shown in messages ----------------------------------------------------


@pytest.mark.parametrize(
    "note, reason",
    [
        (None, None),
        ("", None),
        ("read '1.200' as 1.2 (a dot is a decimal point)", "a dot is a decimal point"),
        ("read '03/04/2027' as 2027-04-03 (day first)", "day first"),
        ("read 25% as 0.25", None),
        ("read 15 as 15%", None),
        ("the value was guessed", "the value was guessed"),
    ],
)
def test_a_notes_reason_is_what_it_adds_to_read_as(note, reason):
    assert note_reason(note) == reason


@pytest.mark.parametrize(
    "raw, shown",
    [
        (None, "blank"),
        ("", "''"),
        ("abc", "'abc'"),
        ("x" * 60, repr("x" * 60)),
        ("x" * 61, repr("x" * 57 + "...")),
        (12.0, "12"),
        (-12.0, "-12"),
        (12.5, "12.5"),
        (1e15, "1000000000000000"),
        (1e16, "1e+16"),
        (-1e16, "-1e+16"),
        (7, "7"),
        (True, "TRUE"),
        (False, "FALSE"),
        (dt.date(2027, 6, 30), "2027-06-30"),
        (dt.datetime(2027, 6, 30), "2027-06-30"),
        (dt.datetime(2027, 6, 30, 9, 5), "2027-06-30 09:05:00"),
        (dt.time(9, 5), "09:05:00"),
    ],
)
def test_how_a_typed_value_is_shown_in_a_message(raw, shown):
    assert display(raw) == shown


def test_a_value_that_cannot_be_shown_is_named_by_its_type():
    class Broken:
        def __str__(self) -> str:
            raise RuntimeError("no")

    assert display(Broken()) == "<Broken>"


# ---- numbers ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, value, note",
    [
        (1200, 1200.0, None),
        (12.5, 12.5, None),
        ("1200", 1200.0, None),
        ("+5", 5.0, None),
        ("-5", -5.0, None),
        ("\u22125", -5.0, None),
        ("\u20135", -5.0, None),
        ("(1,200)", -1200.0, None),
        ("( 1,200 )", -1200.0, None),
        ("$1,200", 1200.0, None),
        ("-$5", -5.0, None),
        ("$-5", -5.0, None),
        ("1,200 USD", 1200.0, None),
        ("EUR 7", 7.0, None),
        ("\u20ac7", 7.0, None),
        ("1,200,000.5", 1200000.5, None),
        ("1.200.000", 1200000.0, None),
        ("1.200,50", 1200.5, None),
        ("1 200", 1200.0, None),
        ("1\u00a0200", 1200.0, None),
        ("1\u202f200", 1200.0, None),
        ("1'200", 1200.0, None),
        ("1\u2019200", 1200.0, None),
        ("1 200,5", 1200.5, None),
        ("12,5", 12.5, None),
        ("0,500", 0.5, None),
        ("1,2345", 1.2345, None),
        (",5", 0.5, None),
        (".5", 0.5, None),
        ("5e3", 5000.0, None),
        ("5E-1", 0.5, None),
        ("2k", 2000.0, None),
        ("2K", 2000.0, None),
        ("2m", 2e6, None),
        ("2mn", 2e6, None),
        ("2 mio", 2e6, None),
        ("2b", 2e9, None),
        ("2bn", 2e9, None),
        ("$250k", 250000.0, None),
        ("0.1k", 100.0, None),
        ("15%", 0.15, "read 15% as 0.15"),
        ("1.5 %", 0.015, "read 1.5 % as 0.015"),
        ("1.200", 1.2, "read '1.200' as 1.2 (a dot is a decimal point)"),
        ("999.999", 999.999, "read '999.999' as 999.999 (a dot is a decimal point)"),
        ("1.2000", 1.2, None),
        ("0.200", 0.2, None),
        ("1.200k", 1200.0, None),
        ("1.200e3", 1200.0, None),
    ],
)
def test_numbers_as_departments_type_them(raw, value, note):
    got, blank, error, said = reading(raw, "number")
    assert (got, blank, error, said) == (pytest.approx(value), False, None, note)
    assert isinstance(got, float)


@pytest.mark.parametrize(
    "raw",
    [
        "ten",
        "+-5",
        "-+5",
        "(-5)",
        "(+5)",
        "5k%",
        "5%k",
        "1,2,3",
        "1,200.000,5",
        "1.2.3,4,5",
        "1,200e3",
        "12 34",
        "1e999",
        "()",
        "(5",
        "5)",
        "$",
        "TBD",
        "?",
        "unknown",
        True,
        False,
        float("inf"),
        float("nan"),
        10**400,
        dt.date(2027, 1, 1),
        dt.datetime(2027, 1, 1),
        [1],
    ],
)
def test_what_is_not_a_number(raw):
    assert reading(raw, "number") == (None, False, "a number", None)


@pytest.mark.parametrize("raw", ["(5)", "(1,200)"])
def test_accounting_parentheses_need_more_than_two_characters(raw):
    assert reading(raw, "number")[0] < 0


@pytest.mark.parametrize(
    "raw, value, error",
    [
        (1200, 1200.0, None),
        ("$1,200", 1200.0, None),
        ("(5)", -5.0, None),
        ("1.200", 1.2, None),
        ("15%", None, "an amount, not a percentage"),
        ("15 %", None, "an amount, not a percentage"),
        ("$15%", None, "an amount, not a percentage"),
        ("ten", None, "a number"),
        (True, None, "a number"),
    ],
)
def test_an_amount_is_a_number_but_never_a_percentage(raw, value, error):
    got, blank, said, _ = reading(raw, "currency")
    assert (got, blank, said) == (value, False, error)


def test_a_currency_amount_keeps_the_note_of_its_reading():
    assert reading("1.200", "currency")[3] == "read '1.200' as 1.2 (a dot is a decimal point)"


@pytest.mark.parametrize(
    "raw, value, note",
    [
        (3, 3, None),
        (3.0, 3, None),
        ("3", 3, None),
        ("1,200", 1200, None),
        ("2k", 2000, None),
        ("-4", -4, None),
        ("1.000", 1, "read '1.000' as 1 (a dot is a decimal point)"),
        ("300%", 3, "read 300% as 3"),
    ],
)
def test_whole_numbers(raw, value, note):
    got, blank, error, said = reading(raw, "integer")
    assert (got, blank, error, said) == (value, False, None, note)
    assert type(got) is int


@pytest.mark.parametrize("raw", [2.5, "2.5", "1.200", "15%", "ten", True, float("inf")])
def test_what_is_not_a_whole_number(raw):
    assert reading(raw, "integer") == (None, False, "a whole number", None)


# ---- percentages -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, value, note",
    [
        ("15%", 0.15, None),
        ("1.5%", 0.015, None),
        ("150%", 1.5, None),
        ("-5%", -0.05, None),
        (15, 0.15, "read 15 as 15%"),
        (15.0, 0.15, "read 15 as 15%"),
        ("15", 0.15, "read 15 as 15%"),
        (-15, -0.15, "read -15 as -15%"),
        (1.5, 0.015, "read 1.5 as 1.5%"),
        (1, 1.0, None),
        (-1, -1.0, None),
        (0.15, 0.15, None),
        (0, 0.0, None),
        ("0.15", 0.15, None),
        ("1.200", 0.012, "read 1.2 as 1.2%"),
        ("0.500", 0.5, None),
        ("1.000%", 0.01, "read '1.000%' as 1 (a dot is a decimal point)"),
    ],
)
def test_percentages_are_fractions(raw, value, note):
    got, blank, error, said = reading(raw, "percent")
    assert (got, blank, error, said) == (pytest.approx(value), False, None, note)


@pytest.mark.parametrize("raw", ["ten", "%", True, "15%%", dt.date(2027, 1, 1)])
def test_what_is_not_a_percentage(raw):
    assert reading(raw, "percent") == (None, False, "a percentage", None)


# ---- dates -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, value, note",
    [
        (dt.date(2027, 6, 30), dt.date(2027, 6, 30), None),
        (dt.datetime(2027, 6, 30, 15, 0), dt.date(2027, 6, 30), None),
        ("2027-06-30", dt.date(2027, 6, 30), None),
        ("2027/6/3", dt.date(2027, 6, 3), None),
        ("2027.06.30", dt.date(2027, 6, 30), None),
        ("2027-06-30 14:05", dt.date(2027, 6, 30), None),
        ("2027-06-30T14:05:09", dt.date(2027, 6, 30), None),
        ("30/06/2027", dt.date(2027, 6, 30), None),
        ("06/30/2027", dt.date(2027, 6, 30), None),
        ("30.06.27", dt.date(2027, 6, 30), None),
        ("13-12-2027", dt.date(2027, 12, 13), None),
        ("12/13/2027", dt.date(2027, 12, 13), None),
        ("03/04/2027", dt.date(2027, 4, 3), "read '03/04/2027' as 2027-04-03 (day first)"),
        ("12/01/27", dt.date(2027, 1, 12), "read '12/01/27' as 2027-01-12 (day first)"),
        ("05/12/2027", dt.date(2027, 12, 5), "read '05/12/2027' as 2027-12-05 (day first)"),
        ("12/12/2027", dt.date(2027, 12, 12), None),
        ("05/05/2027", dt.date(2027, 5, 5), None),
        ("30 Jun 2027", dt.date(2027, 6, 30), None),
        ("30-Jun-27", dt.date(2027, 6, 30), None),
        ("1st March 2027", dt.date(2027, 3, 1), None),
        ("30 SEPT 2027", dt.date(2027, 9, 30), None),
        ("June 30, 2027", dt.date(2027, 6, 30), None),
        ("Dec. 1 2027", dt.date(2027, 12, 1), None),
        ("Jun 2027", dt.date(2027, 6, 1), "read 'Jun 2027' as 2027-06-01 (first day of the month)"),
        ("december, 2027", dt.date(2027, 12, 1), "read 'december, 2027' as 2027-12-01 (first day of the month)"),
        ("2027-06", dt.date(2027, 6, 1), "read '2027-06' as 2027-06-01 (first day of the month)"),
        (45000, dt.date(2023, 3, 15), "read serial 45000 as 2023-03-15"),
        (45000.75, dt.date(2023, 3, 15), "read serial 45000.75 as 2023-03-15"),
        (20000, dt.date(1954, 10, 3), "read serial 20000 as 1954-10-03"),
        (80000, dt.date(2119, 1, 11), "read serial 80000 as 2119-01-11"),
        ("45000", dt.date(2023, 3, 15), None),
    ],
)
def test_dates_as_departments_type_them(raw, value, note):
    if raw == "45000":  # a serial typed as text is not a date: only the number a cell holds is
        assert reading(raw, "date") == (None, False, "a date", None)
        return
    assert reading(raw, "date") == (value, False, None, note)


@pytest.mark.parametrize(
    "raw",
    [
        19999,
        80001,
        -1,
        True,
        "2027-13-01",
        "2027-02-30",
        "31/31/2027",
        "13/13/2027",
        "30 Foo 2027",
        "Foo 30, 2027",
        "Foo 2027",
        "2027-13",
        "2027-00",
        "soon",
        "30/06/2027/1",
        dt.time(12),
    ],
)
def test_what_is_not_a_date(raw):
    assert reading(raw, "date") == (None, False, "a date", None)


# ---- periods ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, value, note",
    [
        ("Q3", "Q3", None),
        (" q3 ", "Q3", None),
        ("2027-Q3", "Q3", None),
        ("Q3 2027", "Q3", None),
        ("FY2027 Q3", "Q3", None),
        ("Q3 FY27", "Q3", None),
        ("Q3'27", "Q3", None),
        ("CY27 Q1", "Q1", None),
        ("Quarter 3", "Q3", None),
        ("qtr 4", "Q4", None),
        ("3Q", "Q3", None),
        ("3q 2027", "Q3", None),
        (dt.date(2027, 8, 1), "Q3", "read 2027-08-01 as Q3"),
        (dt.date(2027, 3, 31), "Q1", "read 2027-03-31 as Q1"),
        (dt.date(2027, 4, 1), "Q2", "read 2027-04-01 as Q2"),
        (dt.datetime(2027, 12, 31, 10), "Q4", "read 2027-12-31 10:00:00 as Q4"),
    ],
)
def test_quarters_as_departments_type_them(raw, value, note):
    assert reading(raw, "period", periods=QUARTERS, cycle_year=2027) == (value, False, None, note)


@pytest.mark.parametrize(
    "raw, error",
    [
        ("3", "a period such as Q1"),
        (3, "a period such as Q1"),
        ("Q5", "a period such as Q1"),
        ("soon", "a period such as Q1"),
        ("2027 Q3 2027", "a period such as Q1"),
        ("FY27 Q3 FY27", "a period such as Q1"),
        ("Q3 2026", "a period of 2027 such as Q1"),
        ("Q3 FY26", "a period of 2027 such as Q1"),
        ("2028-Q1", "a period of 2027 such as Q1"),
        (dt.date(2026, 8, 1), "a period of 2027 such as Q1"),
        ("H1", "one of Q1, Q2, Q3, Q4"),
    ],
)
def test_what_is_not_a_quarter_of_the_cycle(raw, error):
    assert reading(raw, "period", periods=QUARTERS, cycle_year=2027) == (None, False, error, None)


@pytest.mark.parametrize(
    "raw, periods, value, note",
    [
        ("H2", ("H1", "H2"), "H2", None),
        ("half 1", ("H1", "H2"), "H1", None),
        (dt.date(2027, 5, 1), ("H1", "H2"), "H1", "read 2027-05-01 as H1"),
        (dt.date(2027, 7, 1), ("H1", "H2"), "H2", "read 2027-07-01 as H2"),
        (dt.date(2027, 10, 1), ("h1", "h2"), "h2", "read 2027-10-01 as H2"),
        ("q3", ("q1", "q2", "q3", "q4"), "q3", None),
        ("Wave 2", ("Wave 1", "Wave 2"), "Wave 2", None),
        (" wave  2 ", ("Wave 1", "Wave 2"), "Wave 2", None),
        ("Q3 2031", None, "Q3", None),
        (dt.date(2027, 8, 1), None, "Q3", "read 2027-08-01 as Q3"),
    ],
)
def test_periods_the_strategy_names(raw, periods, value, note):
    assert reading(raw, "period", periods=periods) == (value, False, None, note)


def test_a_date_in_a_period_column_whose_periods_are_neither_quarters_nor_halves_is_not_a_period():
    assert reading(dt.date(2027, 8, 1), "period", periods=("Wave 1", "Wave 2")) == (
        None,
        False,
        "one of Wave 1, Wave 2",
        None,
    )


def test_without_a_cycle_year_any_year_is_taken_and_without_periods_the_example_is_q3():
    assert reading("Q2 2031", "period")[0] == "Q2"
    assert reading("soon", "period")[2] == "a period such as Q3"
    assert reading("soon", "period", periods=("Wave 1", "Wave 2"))[2] == "a period such as Wave 1"
    assert reading("Q1", "period", periods=("Wave 1", "Wave 2"))[2] == "one of Wave 1, Wave 2"


# ---- choices and yes/no ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, choices, value, blank, error",
    [
        ("team", ("Team", "Individual"), "Team", False, None),
        (" T eam ", ("Team", "Individual"), "Team", False, None),
        ("INDIVIDUAL", ("Team", "Individual"), "Individual", False, None),
        ("n/a", ("Team", "Individual"), None, True, None),
        ("N/A", ("Team", "Individual"), None, True, None),
        ("none", ("Team", "None"), "None", False, None),
        ("group", ("Team", "Individual"), None, False, "one of Team, Individual"),
        ("y", ("Yes", "No"), "Yes", False, None),
        ("FALSE", ("Yes", "No"), "No", False, None),
        (True, ("Yes", "No"), "Yes", False, None),
        (False, ("Yes", "No"), "No", False, None),
        (1, ("Yes", "No"), "Yes", False, None),
        (0.0, ("Yes", "No"), "No", False, None),
        ("x", ("Y", "N"), "Y", False, None),
        ("no", ("True", "False"), "False", False, None),
        ("yes", ("Yes", "Maybe"), "Yes", False, None),
        ("y", ("Yes", "Maybe"), None, False, "one of Yes, Maybe"),
        ("1", ("Yes", "Y", "No"), "Yes", False, None),
        (3, ("1", "2", "3"), "3", False, None),
        (3.0, ("1", "2", "3"), "3", False, None),
        ("yes", (), None, False, "a value from the list"),
    ],
)
def test_a_choice_is_one_of_the_list_in_its_own_spelling(raw, choices, value, blank, error):
    got, is_blank, said, note = reading(raw, "choice", choices=choices)
    assert (got, is_blank, said, note) == (value, blank, error, None)


def test_a_long_list_of_choices_is_cut_in_the_message():
    ten = tuple(f"c{n}" for n in range(10))
    assert reading("z", "choice", choices=ten)[2] == "one of " + ", ".join(ten)
    eleven = (*ten, "c10")
    assert reading("z", "choice", choices=eleven)[2] == "one of " + ", ".join(ten) + ", ... (11 options)"


@pytest.mark.parametrize(
    "raw, value",
    [
        (True, True),
        (False, False),
        (1, True),
        (0, False),
        (1.0, True),
        (0.0, False),
        ("Yes", True),
        ("y", True),
        ("TRUE", True),
        ("1", True),
        ("X", True),
        ("\u2713", True),
        ("\u2714", True),
        ("no", False),
        ("N", False),
        ("false", False),
        ("0", False),
    ],
)
def test_yes_or_no(raw, value):
    assert reading(raw, "boolean") == (value, False, None, None)


@pytest.mark.parametrize("raw", [2, -1, 0.5, "maybe", "ja", dt.date(2027, 1, 1)])
def test_what_is_not_yes_or_no(raw):
    assert reading(raw, "boolean") == (None, False, "yes or no", None)


# ---- text, allocation, blanks ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, value",
    [
        ("  plan ", "plan"),
        ("plan\u200b", "plan"),
        ("\u200bplan", "plan"),
        ("\ufeffplan\u2060", "plan"),
        ("-", "-"),
        ("n/a", "n/a"),
        (12.0, "12"),
        (12.5, "12.5"),
        (True, "TRUE"),
        (dt.date(2027, 6, 30), "2027-06-30"),
    ],
)
def test_text_is_kept_stripped(raw, value):
    assert reading(raw, "text") == (value, False, None, None)


@pytest.mark.parametrize("raw", ["n/a", "-", "none"])
def test_a_reference_of_n_a_is_blank(raw):
    assert reading(raw, "reference") == (None, True, None, None)


@pytest.mark.parametrize(
    "raw, value",
    [
        ("CO1 60% / CO3 40%", (("CO1", 0.6), ("CO3", 0.4))),
        ("CO1=0.6; CO3=0.4", (("CO1", 0.6), ("CO3", 0.4))),
        ("CO1 60 | CO3 40", (("CO1", 0.6), ("CO3", 0.4))),
        ("CO1 60, CO3 40", (("CO1", 0.6), ("CO3", 0.4))),
        ("CO1 60 and CO3 40", (("CO1", 0.6), ("CO3", 0.4))),
        ("CO1:60% / CO3:40%", (("CO1", 0.6), ("CO3", 0.4))),
        ("CO-1 = 0.6 / C.O3 40 %", (("CO-1", 0.6), ("C.O3", 0.4))),
        ("CO1 60% / ", (("CO1", 0.6),)),
    ],
)
def test_an_objective_split(raw, value):
    got = reading(raw, "allocation")
    assert got[1:] == (False, None, None)
    assert [(i, pytest.approx(w)) for i, w in got[0]] == list(value)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "raw", ["CO1", "CO160%", "60%", "CO1 lots", "/", 60, dt.date(2027, 1, 1), "CO1 60% / CO3", "CO1 1 5 %"]
)
def test_what_is_not_an_objective_split(raw):
    """An id without its weight is not split into an id and a weight ("CO3" is not objective "CO" at 3%)."""
    error = "objective ids with weights, such as CO1 60% / CO3 40%"
    assert reading(raw, "allocation") == (None, False, error, None)


@pytest.mark.parametrize("kind", KINDS_WITH_MARKERS)
@pytest.mark.parametrize("raw", ["", "   ", "\u200b", " \u200b\ufeff ", *sorted(BLANK_MARKERS), "N/A", " None "])
def test_nothing_typed_and_not_applicable_are_blank(raw, kind):
    assert reading(raw, kind, periods=QUARTERS) == (None, True, None, None)


@pytest.mark.parametrize("kind", ["number", "period", "choice", "text"])
def test_a_long_text_is_never_a_marker(kind):
    long_marker = "not applicable" + " " * 3 + "x"  # 18 characters, not a marker
    assert not reading(long_marker, kind, choices=("a",), periods=QUARTERS)[1]


def test_a_marker_longer_than_sixteen_characters_is_not_looked_up():
    assert "not applicable" in BLANK_MARKERS and len("not applicable") <= 16
    assert reading("not applicable", "number")[1]


@pytest.mark.parametrize("kind", ["text", "number", "currency", "percent", "period", "choice", "date"])
def test_a_blank_cell_is_blank(kind):
    assert reading(None, kind, choices=("a",), periods=QUARTERS) == (None, True, None, None)


def test_an_unknown_kind_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown value kind 'colour'"):
        parse_value(1, "colour")
    with pytest.raises(ValueError, match="unknown value kind 'colour'"):
        value_parser("colour")


def test_a_column_keeps_at_most_its_limit_of_readings():
    parse = value_parser("number")
    for n in range(4100):
        parse(str(n))
    assert len(parse.memo) == 4096  # type: ignore[attr-defined]
    assert parse("4099") == Parsed(4099.0)


def test_a_number_columns_float_is_taken_as_it_is():
    parse = value_parser("currency")
    assert parse(2.5) == Parsed(2.5)
    assert parse(float("inf")) == Parsed(None, error="a number")
    assert value_parser("percent")(2.5) == Parsed(0.025, note="read 2.5 as 2.5%")


@pytest.mark.parametrize(
    "value, blank", [(None, True), ("", True), ("  \t", True), ("x", False), (" x ", False), (0, False), (False, False)]
)
def test_nothing_typed_is_none_or_only_spaces(value, blank):
    assert is_blank(value) is blank
