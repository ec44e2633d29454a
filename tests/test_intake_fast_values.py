"""value_parser (bound once per column, texts' readings kept) reads exactly what parse_value reads
(parse_value is the reference: it is the rules of the module docstring, written out once)."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from cascadebook.spec.values import KINDS, parse_value, value_parser

PERIODS = ("Q1", "Q2", "Q3", "Q4")
CHOICES = ("Yes", "No", "None", "Team", "Individual")


class Text(str):
    pass


RAWS = [
    None,
    "",
    "  ",
    "\u200b",
    " \u200bx\u200b ",
    "x",
    "  x  ",
    "n/a",
    "N/A ",
    "-",
    "none",
    "None",
    "TBD",
    "1,200",
    " 15% ",
    "$250k",
    "(1,200)",
    "1.200",
    "2027-06-30",
    "30/06/2027",
    "Jun 2027",
    "q3",
    "2027-Q3",
    "Q3 2026",
    "H1",
    "yes",
    "y",
    "X",
    "Team",
    " team ",
    "individual",
    "CO1 60% / CO3 40%",
    "=SUM(A1)",
    Text("  y "),
    Text(""),
    0,
    1,
    2,
    -3,
    0.0,
    -0.0,
    1.0,
    15.0,
    0.15,
    1e308 * 10,
    -1e308 * 10,
    float("nan"),
    True,
    False,
    10**400,
    dt.date(2027, 6, 30),
    dt.datetime(2027, 6, 30, 12),
    dt.datetime(2027, 6, 30),
    dt.time(12),
    45000,
    45000.0,
]


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_bound_parser_reads_what_parse_value_reads(kind):
    options = dict(choices=CHOICES if kind == "choice" else None, periods=PERIODS, cycle_year=2027)
    parse = value_parser(kind, **options)
    for _ in range(2):  # the second time from the kept readings
        for raw in RAWS:
            got, want = parse(raw), parse_value(raw, kind, **options)
            assert (got.value, got.blank, got.error, got.note) == (want.value, want.blank, want.error, want.note) or (
                got.value != got.value and want.value != want.value
            ), (kind, raw, got, want)
            assert type(got.value) is type(want.value), (kind, raw)
            if isinstance(want.value, float):
                assert math.copysign(1, got.value) == math.copysign(1, want.value), (kind, raw)


def test_unknown_kind_is_still_a_programming_error():
    with pytest.raises(ValueError):
        value_parser("colour")
