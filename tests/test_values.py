from __future__ import annotations

import datetime as dt
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cascadebook.spec.values import BLANK_MARKERS, KINDS, Parsed, display, parse_value

QUARTERS = ["Q1", "Q2", "Q3", "Q4"]
LMH = ["Low", "Medium", "High"]


def ok(raw: object, kind: str, **kw: object) -> object:
    p = parse_value(raw, kind, **kw)
    assert p.ok, p
    assert not p.blank and p.error is None
    return p.value


def err(raw: object, kind: str, **kw: object) -> str:
    p = parse_value(raw, kind, **kw)
    assert p.error is not None and p.value is None and not p.blank and not p.ok, p
    return p.error


# ---------------------------------------------------------------- Parsed / API


def test_parsed_ok_property() -> None:
    assert Parsed(1.0).ok
    assert not Parsed(None, blank=True).ok
    assert not Parsed(None, error="a number").ok
    assert Parsed(0.15, note="read 15 as 15%").ok


def test_parsed_is_frozen() -> None:
    p = Parsed(1)
    with pytest.raises(AttributeError):
        p.value = 2  # type: ignore[misc]


def test_unknown_kind_raises() -> None:
    with pytest.raises(ValueError):
        parse_value("x", "numbr")
    with pytest.raises(ValueError):
        parse_value(None, "numbr")


def test_kinds() -> None:
    assert KINDS == {
        "text",
        "reference",
        "number",
        "currency",
        "integer",
        "percent",
        "date",
        "period",
        "choice",
        "boolean",
        "allocation",
    }


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("CO1 60% / CO3 40%", (("CO1", 0.6), ("CO3", 0.4))),
        ("CO1: 0.6, CO3: 0.4", (("CO1", 0.6), ("CO3", 0.4))),
        ("CO1 60 / CO3 40", (("CO1", 0.6), ("CO3", 0.4))),
        ("CO2 100%", (("CO2", 1.0),)),
    ],
)
def test_allocation(raw, expected) -> None:
    assert parse_value(raw, "allocation").value == expected


@pytest.mark.parametrize("raw", ["junk", "60% / 40%", 12, "CO1 lots"])
def test_allocation_errors(raw) -> None:
    assert parse_value(raw, "allocation").error == "objective ids with weights, such as CO1 60% / CO3 40%"


# ---------------------------------------------------------------- blanks


@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("raw", [None, "", "   ", "\t\n", "\u00a0", "\u200b", " \ufeff\u200b "])
def test_empty_is_blank_for_every_kind(raw: object, kind: str) -> None:
    p = parse_value(raw, kind, choices=LMH, periods=QUARTERS)
    assert p.blank and p.value is None and p.error is None and not p.ok


@pytest.mark.parametrize("kind", sorted(KINDS - {"text"}))
@pytest.mark.parametrize("raw", ["n/a", "N/A", " NA ", "-", "--", "—", "–", "None", "none", "NULL", "n.a."])
def test_blank_markers_apply_except_text(raw: str, kind: str) -> None:
    p = parse_value(raw, kind, choices=LMH, periods=QUARTERS)
    assert p.blank and not p.ok


@pytest.mark.parametrize("raw", ["-", "n/a", "None", "--"])
def test_blank_markers_do_not_apply_to_text(raw: str) -> None:
    assert ok(raw, "text") == raw


def test_blank_markers_constant() -> None:
    assert "n/a" in BLANK_MARKERS and "-" in BLANK_MARKERS
    assert "tbd" not in BLANK_MARKERS
    assert all(m == m.strip().casefold() for m in BLANK_MARKERS)
    assert err("TBD", "number") == "a number"


def test_marker_that_is_a_choice_is_the_choice() -> None:
    assert ok("none", "choice", choices=["None", "Some", "All"]) == "None"
    assert ok("N/A", "choice", choices=["Yes", "No", "N/A"]) == "N/A"
    assert parse_value("none", "choice", choices=LMH).blank


# ---------------------------------------------------------------- text / reference


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("  hello world ", "hello world"),
        ("\u00a0abc\u00a0", "abc"),
        ("\u200babc", "abc"),
        (12.0, "12"),
        (12, "12"),
        (12.5, "12.5"),
        (-3.0, "-3"),
        (0.1, "0.1"),
        (dt.date(2027, 6, 30), "2027-06-30"),
        (dt.datetime(2027, 6, 30), "2027-06-30"),
        (dt.datetime(2027, 6, 30, 12, 30), "2027-06-30 12:30:00"),
        (dt.time(9, 15), "09:15:00"),
        (True, "TRUE"),
        ("multi\nline", "multi\nline"),
        ("日本語 ✓ 🎉", "日本語 ✓ 🎉"),
    ],
)
@pytest.mark.parametrize("kind", ["text", "reference"])
def test_text_and_reference(raw: object, expected: str, kind: str) -> None:
    assert ok(raw, kind) == expected


def test_reference_keeps_case() -> None:
    assert ok(" co1 ", "reference") == "co1"
    assert ok("CO1", "reference") == "CO1"


def test_very_long_text() -> None:
    s = "x" * 40000
    assert ok("  " + s + "  ", "text") == s


# ---------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    "raw, expected",
    [
        (22, 22.0),
        (22.5, 22.5),
        (-3, -3.0),
        ("  22 ", 22.0),
        ("22", 22.0),
        ("-22.5", -22.5),
        (".5", 0.5),
        ("1,200", 1200.0),
        ("1,200,000.50", 1200000.5),
        ("1.200,50", 1200.5),
        ("1.200.000", 1200000.0),
        ("1.200.000,25", 1200000.25),
        ("1 200", 1200.0),
        ("1\u00a0200", 1200.0),
        ("1\u202f200", 1200.0),
        ("1\u2009200", 1200.0),
        ("1 200 000,5", 1200000.5),
        ("1 200.5", 1200.5),
        ("1'200.50", 1200.5),
        ("12,5", 12.5),
        ("12,50", 12.5),
        ("0,500", 0.5),
        ("1,2345", 1.2345),
        ("(1,200)", -1200.0),
        ("( 5 )", -5.0),
        ("−5", -5.0),
        ("–5", -5.0),
        ("+5", 5.0),
        ("$250k", 250000.0),
        ("$ 250K", 250000.0),
        ("€1.2m", 1200000.0),
        ("1.2M", 1200000.0),
        ("3mn", 3000000.0),
        ("3 mio", 3000000.0),
        ("1.5bn", 1500000000.0),
        ("2b", 2000000000.0),
        ("£1,000", 1000.0),
        ("¥500", 500.0),
        ("USD 1,000", 1000.0),
        ("1000 EUR", 1000.0),
        ("eur1000", 1000.0),
        ("-$5", -5.0),
        ("$-5", -5.0),
        ("($1,200.50)", -1200.5),
        ("1e3", 1000.0),
        ("1.5E-3", 0.0015),
        ("２５", 25.0),
    ],
)
@pytest.mark.parametrize("kind", ["number", "currency"])
def test_number_ok(raw: object, expected: float, kind: str) -> None:
    value = ok(raw, kind)
    assert isinstance(value, float)
    assert value == pytest.approx(expected, rel=1e-12)


def test_number_interpreted_values_have_notes() -> None:
    p = parse_value("15%", "number")
    assert p.ok and p.value == pytest.approx(0.15) and p.note == "read 15% as 0.15"
    p = parse_value("1.200", "number")
    assert p.ok and p.value == 1.2 and p.note and "1.200" in p.note
    assert parse_value("1,200", "number").note is None
    assert parse_value(1200.0, "number").note is None


@pytest.mark.parametrize(
    "raw",
    [
        True,
        False,
        "abc",
        "12abc",
        "1,2,3",
        "1.2.3",
        "1,20,000",
        "1 2",
        "1  2 3",
        "--5",
        "-(5)",
        "5-",
        "$",
        "k",
        "1e",
        "e3",
        "nan",
        "NaN",
        "inf",
        "-inf",
        "Infinity",
        "1_000",
        "0x10",
        "1/2",
        "½",
        "5 apples",
        "5%%",
        "5k%",
        "1e999",
        float("nan"),
        float("inf"),
        float("-inf"),
        10**400,
        dt.date(2027, 1, 1),
        dt.time(1, 2),
        dt.timedelta(days=1),
        [1],
        object(),
        "1.200,000.5",
        "ten",
    ],
)
@pytest.mark.parametrize("kind", ["number", "currency"])
def test_number_errors(raw: object, kind: str) -> None:
    assert err(raw, kind) == "a number"


# ---------------------------------------------------------------- integer


@pytest.mark.parametrize(
    "raw, expected",
    [(2, 2), (2.0, 2), ("2.0", 2), (" 7 ", 7), ("1,200", 1200), ("-3", -3), ("$2k", 2000), ("1e3", 1000)],
)
def test_integer_ok(raw: object, expected: int) -> None:
    value = ok(raw, "integer")
    assert type(value) is int and value == expected


@pytest.mark.parametrize("raw", [2.5, "2.5", "abc", True, "12,5", float("nan"), "15%"])
def test_integer_errors(raw: object) -> None:
    assert err(raw, "integer") == "a whole number"


# ---------------------------------------------------------------- percent


@pytest.mark.parametrize(
    "raw, expected, noted",
    [
        ("15%", 0.15, False),
        ("1.5%", 0.015, False),
        ("15 %", 0.15, False),
        ("-5%", -0.05, False),
        ("150%", 1.5, False),
        ("0.5%", 0.005, False),
        (15, 0.15, True),
        (15.0, 0.15, True),
        (-20, -0.2, True),
        (150, 1.5, True),
        (0.15, 0.15, False),
        (1, 1.0, False),
        (1.0, 1.0, False),
        (-1, -1.0, False),
        (0, 0.0, False),
        ("0.15", 0.15, False),
        ("15", 0.15, True),
        ("12,5", 0.125, True),
        ("12,5 %", 0.125, False),
    ],
)
def test_percent(raw: object, expected: float, noted: bool) -> None:
    p = parse_value(raw, "percent")
    assert p.ok and p.value == pytest.approx(expected, rel=1e-12)
    assert (p.note is not None) == noted


def test_percent_note_wording() -> None:
    assert parse_value(15, "percent").note == "read 15 as 15%"
    assert parse_value(12.5, "percent").note == "read 12.5 as 12.5%"


@pytest.mark.parametrize("raw", ["abc", True, "%", "15%%", dt.date(2027, 1, 1)])
def test_percent_errors(raw: object) -> None:
    assert err(raw, "percent") == "a percentage"


# ---------------------------------------------------------------- date

D = dt.date(2027, 6, 30)


@pytest.mark.parametrize(
    "raw",
    [
        D,
        dt.datetime(2027, 6, 30),
        dt.datetime(2027, 6, 30, 15, 45),
        "2027-06-30",
        "2027/06/30",
        "2027.06.30",
        "2027-6-30",
        "30/06/2027",
        "30.06.2027",
        "30-06-2027",
        "30/6/2027",
        "30/06/27",
        "06/30/2027",
        "6/30/2027",
        "30 Jun 2027",
        "30 June 2027",
        "30-Jun-2027",
        "30-Jun-27",
        "30th June 2027",
        "June 30, 2027",
        "Jun 30 2027",
        "JUNE 30, 2027",
        "2027-06-30 00:00:00",
        "2027-06-30T00:00:00",
        "2027-06-30 14:05",
        "30/06/2027 00:00",
    ],
)
def test_date_ok_without_note(raw: object) -> None:
    p = parse_value(raw, "date")
    assert p.ok and p.value == D and type(p.value) is dt.date and p.note is None, p


def test_date_serial() -> None:
    p = parse_value(46000, "date")
    assert p.ok and p.value == dt.date(2025, 12, 9)
    assert p.note == "read serial 46000 as 2025-12-09"
    assert parse_value(46000.75, "date").value == dt.date(2025, 12, 9)
    assert ok(20000, "date") == dt.date(1954, 10, 3)
    assert ok(80000, "date") == dt.date(2119, 1, 11)


def test_ambiguous_date_is_day_first_with_note() -> None:
    p = parse_value("03/04/2027", "date")
    assert p.ok and p.value == dt.date(2027, 4, 3)
    assert p.note is not None and "2027-04-03" in p.note and "day first" in p.note
    p = parse_value("05/05/2027", "date")  # day == month: nothing ambiguous
    assert p.value == dt.date(2027, 5, 5) and p.note is None
    p = parse_value("13/04/2027", "date")
    assert p.value == dt.date(2027, 4, 13) and p.note is None


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("Jun 2027", dt.date(2027, 6, 1)),
        ("June 2027", dt.date(2027, 6, 1)),
        ("Sept 2027", dt.date(2027, 9, 1)),
        ("2027-06", dt.date(2027, 6, 1)),
    ],
)
def test_month_only_is_first_day_with_note(raw: str, expected: dt.date) -> None:
    p = parse_value(raw, "date")
    assert p.ok and p.value == expected and p.note and "first day" in p.note


@pytest.mark.parametrize(
    "raw",
    [
        "abc",
        "2027",
        2027,
        2027.0,
        19999,
        80001,
        -5,
        True,
        "31/02/2027",
        "13/13/2027",
        "2027-13-01",
        "2027-02-30",
        "32 Jun 2027",
        "30 Foo 2027",
        "Foo 2027",
        "June 31, 2027",
        "30/06",
        "tomorrow",
        "2027-06-30 25:00:00x",
        dt.time(12, 0),
        dt.timedelta(days=3),
        float("nan"),
        float("inf"),
        "2027/06-30",
        "0/0/0000",
    ],
)
def test_date_errors(raw: object) -> None:
    assert err(raw, "date") == "a date"


# ---------------------------------------------------------------- period


@pytest.mark.parametrize(
    "raw",
    [
        "Q3",
        "q3",
        " Q3 ",
        "2027-Q3",
        "Q3 2027",
        "Q3-2027",
        "2027 Q3",
        "FY2027 Q3",
        "FY27 Q3",
        "Q3 FY27",
        "Q3'27",
        "Quarter 3",
        "quarter 3 2027",
        "Qtr 3",
        "3Q",
        "3Q 2027",
        "Q 3",
        "2027Q3",
    ],
)
def test_period_ok(raw: str) -> None:
    assert ok(raw, "period", periods=QUARTERS, cycle_year=2027) == "Q3"
    assert ok(raw, "period", periods=QUARTERS) == "Q3"
    assert ok(raw, "period") == "Q3"


def test_period_returns_canonical_spelling() -> None:
    assert ok("q3", "period", periods=["q1", "q2", "q3", "q4"]) == "q3"
    assert ok("Q3", "period", periods=["Q1 ", "Q2", "Q3 ", "Q4"]) == "Q3 "


@pytest.mark.parametrize(
    "raw", ["3", 3, 3.0, "third", "Q5", "Q0", "Q", "Q3 Q4", "2027 Q3 2027", True, "quarter", "Q3 27"]
)
def test_period_errors(raw: object) -> None:
    assert err(raw, "period", periods=QUARTERS, cycle_year=2027) == "a period such as Q1"


def test_period_wrong_year() -> None:
    assert err("Q3 2026", "period", periods=QUARTERS, cycle_year=2027) == "a period of 2027 such as Q1"
    assert err("FY26 Q1", "period", periods=QUARTERS, cycle_year=2027) == "a period of 2027 such as Q1"
    assert ok("Q3 2026", "period", periods=QUARTERS) == "Q3"  # no cycle year -> year not checked


def test_period_not_in_periods() -> None:
    assert err("H1", "period", periods=QUARTERS) == "one of Q1, Q2, Q3, Q4"
    assert err("Q3", "period", periods=["Q1", "Q2"]) == "one of Q1, Q2"


@pytest.mark.parametrize(
    "raw, expected", [("H1", "H1"), ("h2", "H2"), ("H2 2027", "H2"), ("Half 1", "H1"), ("2027-H2", "H2")]
)
def test_period_halves(raw: str, expected: str) -> None:
    assert ok(raw, "period", periods=["H1", "H2"], cycle_year=2027) == expected


def test_period_custom_labels_match_directly() -> None:
    months = ["Jan", "Feb", "Mar"]
    assert ok("feb", "period", periods=months) == "Feb"
    assert ok(2027.0, "period", periods=["2027", "2028"]) == "2027"
    assert err("Q1", "period", periods=months) == "one of Jan, Feb, Mar"


def test_period_from_date() -> None:
    p = parse_value(dt.date(2027, 8, 15), "period", periods=QUARTERS, cycle_year=2027)
    assert p.ok and p.value == "Q3" and p.note == "read 2027-08-15 as Q3"
    assert ok(dt.datetime(2027, 1, 1, 8), "period", periods=QUARTERS) == "Q1"
    assert ok(dt.date(2027, 11, 2), "period", periods=["H1", "H2"]) == "H2"
    assert err(dt.date(2026, 8, 15), "period", periods=QUARTERS, cycle_year=2027).startswith("a period of 2027")


# ---------------------------------------------------------------- choice


@pytest.mark.parametrize(
    "raw, expected",
    [("low", "Low"), (" MEDIUM ", "Medium"), ("High", "High"), ("h i g h", "High"), ("\u00a0high\u00a0", "High")],
)
def test_choice_ok(raw: str, expected: str) -> None:
    assert ok(raw, "choice", choices=LMH) == expected


def test_choice_whitespace_inside() -> None:
    assert ok("in   progress", "choice", choices=["Not started", "In progress", "Done"]) == "In progress"
    assert ok("InProgress", "choice", choices=["Not started", "In progress", "Done"]) == "In progress"


@pytest.mark.parametrize("raw", ["hi", "Lowest", 1.0, True, "yes"])
def test_choice_errors(raw: object) -> None:
    assert err(raw, "choice", choices=LMH) == "one of Low, Medium, High"


def test_choice_error_truncates_long_lists() -> None:
    choices = [f"C{i}" for i in range(25)]
    e = err("zz", "choice", choices=choices)
    assert e.startswith("one of C0, C1,") and "25 options" in e and "C24" not in e


def test_choice_without_choices_does_not_raise() -> None:
    assert parse_value("x", "choice").error


def test_choice_numbers() -> None:
    assert ok(2.0, "choice", choices=["1", "2", "3"]) == "2"
    assert ok(2, "choice", choices=["1", "2", "3"]) == "2"


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("y", "Yes"),
        ("Y", "Yes"),
        ("n", "No"),
        ("true", "Yes"),
        ("FALSE", "No"),
        (True, "Yes"),
        (False, "No"),
        ("yes", "Yes"),
        (" No ", "No"),
        ("x", "Yes"),
    ],
)
def test_choice_yes_no(raw: object, expected: str) -> None:
    assert ok(raw, "choice", choices=["Yes", "No"]) == expected


def test_choice_true_false_labels() -> None:
    assert ok(True, "choice", choices=["TRUE", "FALSE"]) == "TRUE"
    assert ok("y", "choice", choices=["True", "False"]) == "True"
    assert ok("n", "choice", choices=["Y", "N"]) == "N"


# ---------------------------------------------------------------- boolean


@pytest.mark.parametrize(
    "raw, expected",
    [
        (True, True),
        (False, False),
        ("yes", True),
        ("YES", True),
        ("y", True),
        ("no", False),
        ("N", False),
        ("true", True),
        ("False", False),
        ("1", True),
        ("0", False),
        (1, True),
        (0, False),
        (1.0, True),
        (0.0, False),
        ("x", True),
        ("X", True),
        (" yes ", True),
        ("✓", True),
    ],
)
def test_boolean_ok(raw: object, expected: bool) -> None:
    assert ok(raw, "boolean") is expected


@pytest.mark.parametrize("raw", ["maybe", "2", 2, 0.5, "yess", dt.date(2027, 1, 1), "oui"])
def test_boolean_errors(raw: object) -> None:
    assert err(raw, "boolean") == "yes or no"


def test_boolean_blank_markers() -> None:
    assert parse_value("n/a", "boolean").blank
    assert parse_value("-", "boolean").blank


# ---------------------------------------------------------------- display


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("abc", "'abc'"),
        ("", "''"),
        (12.0, "12"),
        (12, "12"),
        (12.5, "12.5"),
        (-0.25, "-0.25"),
        (1e20, "1e+20"),
        (True, "TRUE"),
        (False, "FALSE"),
        (None, "blank"),
        (dt.date(2027, 6, 30), "2027-06-30"),
        (dt.datetime(2027, 6, 30), "2027-06-30"),
        (dt.datetime(2027, 6, 30, 8, 5), "2027-06-30 08:05:00"),
        (dt.time(8, 5), "08:05:00"),
    ],
)
def test_display(raw: object, expected: str) -> None:
    assert display(raw) == expected


def test_display_truncates_long_strings() -> None:
    d = display("y" * 1000)
    assert len(d) < 70 and d.startswith("'yyy") and d.endswith("...'")


def test_display_never_raises() -> None:
    class Bad:
        def __str__(self) -> str:
            raise RuntimeError("boom")

    assert display(Bad()) == "<Bad>"
    assert display(10**5000)  # int too large for str() in 3.11


# ---------------------------------------------------------------- robustness


WEIRD = [
    "\x00",
    "\ufffd",
    "𝟙𝟚𝟛",
    "١٢٣",
    "①",
    "1\u0301",
    "\u202e123",
    "Q\u0303",
    "ǅ",
    "ß",
    "ﬃ",
    "\U0010ffff",
    "%",
    "()",
    "(",
    ")",
    "$",
    "e",
    ".",
    ",",
    "'",
    "’",
    "1,",
    ",",
    "1.",
    "- 5",
    "+-5",
    "Q3" * 1000,
    "1" * 400,
    "9" * 5000,
    "1 " * 5000,
    "1," * 5000,
    "/" * 3000,
    "30/06/" + "2" * 500,
]


@pytest.mark.parametrize("raw", WEIRD)
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_weird_input_never_raises(raw: str, kind: str) -> None:
    p = parse_value(raw, kind, choices=LMH, periods=QUARTERS, cycle_year=2027)
    assert isinstance(p, Parsed)
    assert p.ok or p.blank or p.error
    display(raw)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_very_long_string(kind: str) -> None:
    p = parse_value("a" * 100_000, kind, choices=LMH, periods=QUARTERS)
    assert p.ok if kind in ("text", "reference") else p.error


any_raw = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(),
    st.dates(),
    st.datetimes(),
    st.times(),
    st.timedeltas(),
    st.decimals(),
    st.fractions(),
    st.text(alphabet="0123456789.,-+()%$€ kKmMbBeE'\u00a0\u202f/Q", max_size=20),
    st.from_regex(r"\A[ (]?[-+−]?[$€]?[0-9]{1,4}([.,' ][0-9]{1,4}){0,3}(e-?[0-9])?\s?(k|m|bn)?%?\)?\Z"),
    st.from_regex(r"\A(FY)?[0-9]{0,4}[ -]?(Q|H|Quarter )[0-9][ -]?'?[0-9]{0,4}\Z"),
    st.from_regex(r"\A[0-9]{1,4}[-/. ][0-9a-zA-Z]{1,9}[-/., ]{1,2}[0-9]{1,4}\Z"),
)


@settings(max_examples=300, deadline=None)
@given(
    raw=any_raw,
    kind=st.sampled_from(sorted(KINDS)),
    choices=st.one_of(st.none(), st.lists(st.text(), max_size=5)),
    periods=st.one_of(st.none(), st.lists(st.text(max_size=6), max_size=5)),
    cycle_year=st.one_of(st.none(), st.integers(1900, 2100)),
)
def test_parse_value_never_raises(
    raw: object, kind: str, choices: list[str] | None, periods: list[str] | None, cycle_year: int | None
) -> None:
    p = parse_value(raw, kind, choices=choices, periods=periods, cycle_year=cycle_year)
    assert isinstance(p, Parsed)
    assert p.blank + (p.error is not None) + p.ok == 1
    if p.ok:
        assert p.value is not None
    else:
        assert p.value is None
    if kind in ("number", "currency", "percent") and p.ok:
        assert isinstance(p.value, float) and math.isfinite(p.value)
    if kind == "integer" and p.ok:
        assert type(p.value) is int
    if kind == "date" and p.ok:
        assert type(p.value) is dt.date
    if kind == "boolean" and p.ok:
        assert type(p.value) is bool
    if kind == "choice" and p.ok:
        assert p.value in (choices or [])
    if kind == "period" and p.ok and periods:
        assert p.value in periods
    assert isinstance(display(raw), str)


@settings(max_examples=200, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e15, max_value=1e15))
def test_number_roundtrip_through_text(x: float) -> None:
    assert ok(x, "number") == x
    assert ok(repr(x), "number") == x
    assert ok(display(x), "number") == x


def test_yes_no_words_only_map_to_yes_no_like_choices() -> None:
    assert err("yes", "choice", choices=["0", "1", "2"]) == "one of 0, 1, 2"
    assert err("yes", "choice", choices=["X", "Y", "Z"]).startswith("one of")
    assert ok("1", "choice", choices=["0", "1", "2"]) == "1"
