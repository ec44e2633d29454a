"""The live-check formula pieces and their Python twins, stated as tables (fast: no LibreOffice).

A formula piece is judged by evaluating its text here with the spreadsheet semantics of the few
functions it uses (ISNUMBER, FIND, LOWER, TRIM, ``&``, ``=``), written out by hand below, and the
twin (``sheet_blank``, ``sheet_in``) must say the same for every value. The LibreOffice round trip
of whole templates (tests/test_livecheck.py) checks the same pieces in a real spreadsheet program.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

import pytest

from cascadebook.intake import formulas as fx
from cascadebook.intake.formulas import (
    MARKERS_NAME,
    ROW,
    Env,
    blank_formula,
    blank_markers,
    excel_serial,
    found_in_list,
    id_range_name,
    key_letter,
    looks_like_formula,
    markers_for,
    options_list,
    pipe_list,
    q,
    sheet_blank,
    sheet_in,
    sheet_number,
    sheet_text,
    sheet_trim,
    title_range_name,
)
from cascadebook.spec.schema import Column, SheetSpec, load_spec

# ---- a hand-written evaluator of the formula pieces ------------------------------------------------


def excel_text(value) -> str:
    """What a cell shows to a text function, written out for the values the tables below use."""
    if value is None:
        return ""
    if value is True or value is False:
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return f"{value:g}" if float(value) != int(value) else str(int(value))
    return value


def excel_trim(text: str) -> str:
    return " ".join(part for part in text.split(" ") if part)


def evaluate(formula: str, cell, names: dict[str, str] | None = None):
    """Evaluate ``formula`` with ``A1`` holding ``cell``: ISNUMBER(FIND(...)), LOWER, TRIM, & and =."""
    names = {MARKERS_NAME: blank_markers(), **(names or {})}
    tokens = re.findall(r'"(?:[^"]|"")*"|[A-Z][A-Za-z0-9]*\(|[A-Za-z]\w*|[(),&=]', formula)
    assert "".join(tokens) == formula, f"unexpected text in {formula!r}"
    pos = 0

    def expr():
        nonlocal pos
        left = concat()
        if pos < len(tokens) and tokens[pos] == "=":
            pos += 1
            return left == concat()
        return left

    def concat():
        nonlocal pos
        value = atom()
        while pos < len(tokens) and tokens[pos] == "&":
            pos += 1
            value = excel_text(value) + excel_text(atom())
        return value

    def atom():
        nonlocal pos
        token = tokens[pos]
        pos += 1
        if token.startswith('"'):
            return token[1:-1].replace('""', '"')
        if token.endswith("("):
            args = [expr()]
            while tokens[pos] == ",":
                pos += 1
                args.append(expr())
            assert tokens[pos] == ")"
            pos += 1
            return FUNCTIONS[token[:-1]](*args)
        if token == "A1":
            return cell
        return names[token]

    value = expr()
    assert pos == len(tokens)
    return value


def _find(needle, haystack):
    at = excel_text(haystack).find(excel_text(needle))  # FIND is case-sensitive
    return "#VALUE!" if at < 0 else at + 1


FUNCTIONS = {
    "ISNUMBER": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "FIND": _find,
    "LOWER": lambda v: excel_text(v).lower(),
    "TRIM": lambda v: excel_trim(excel_text(v)),
}


# ---- which cells read as blank: formula and twin agree ---------------------------------------------

TEXT = Column("note", "Note")
NUMBER = Column("budget", "Budget", "currency")
CHOICE = Column("status", "Status", "choice", choices=("Planned", "Done"))
CHOICE_NA = Column("scope", "Scope", "choice", choices=("Global", "N/A", "None"))  # "n/a" is an answer here


@pytest.mark.parametrize(
    ("col", "raw", "blank"),
    [
        (TEXT, None, True),
        (TEXT, "", True),
        (TEXT, "   ", True),
        (TEXT, "n/a", False),  # in a text column "n/a" is what was written
        (TEXT, " x ", False),
        (TEXT, 0, False),
        (NUMBER, None, True),
        (NUMBER, "  ", True),
        (NUMBER, "n/a", True),
        (NUMBER, " N/A ", True),  # case and spaces do not matter
        (NUMBER, "Not  Applicable", True),  # inner runs of spaces are one
        (NUMBER, "none", True),
        (NUMBER, "-", True),
        (NUMBER, "—", True),
        (NUMBER, "na", True),
        (NUMBER, "n", False),  # a piece of a marker is no marker
        (NUMBER, "a|n", False),
        (NUMBER, "n/a|none", False),
        (NUMBER, 0, False),
        (NUMBER, 12.5, False),
        (NUMBER, "tbd", False),
        (CHOICE, "N/A", True),
        (CHOICE, "Planned", False),
        (CHOICE_NA, "N/A", False),  # the choice, not a blank
        (CHOICE_NA, "none", False),
        (CHOICE_NA, "na", True),  # other markers still blank
        (CHOICE_NA, "", True),
        (CHOICE_NA, "  ", True),
    ],
)
def test_a_cell_reads_as_blank_alike_in_the_sheet_and_in_python(col, raw, blank):
    formula = blank_formula(col, "A1")
    assert evaluate(formula, raw) is blank
    assert sheet_blank(col, raw) is blank


def test_blank_formulas_are_written_as_the_sheet_needs_them():
    assert blank_formula(TEXT, "C" + ROW) == f'TRIM(C{ROW})=""'
    assert blank_formula(NUMBER, "D7") == 'ISNUMBER(FIND("|"&LOWER(TRIM(D7))&"|",BlankMarkers))'
    operand, pipes = markers_for(CHOICE_NA)
    assert blank_formula(CHOICE_NA, "E2") == f'ISNUMBER(FIND("|"&LOWER(TRIM(E2))&"|",{operand}))'
    assert operand == q(pipes) and "|n/a|" not in pipes and "|none|" not in pipes and "|na|" in pipes
    assert markers_for(NUMBER) == markers_for(CHOICE) == (MARKERS_NAME, blank_markers())
    assert MARKERS_NAME == "BlankMarkers"


def test_blank_markers_are_a_lower_case_pipe_list_with_the_empty_string():
    markers = blank_markers()
    assert markers.startswith("||") and markers.endswith("|")
    items = markers[1:-1].split("|")
    assert items[0] == "" and items[1:] == sorted(items[1:])
    assert set(items[1:]) == {"n/a", "n.a.", "n.a", "na", "-", "--", "---", "—", "–", "none", "null", "not applicable"}
    assert "|n/a|" not in blank_markers(["N/A"]) and "|none|" in blank_markers(["N/A"])
    assert blank_markers(["NONE", "Null"]).count("|") == len(items) + 1 - 2


@pytest.mark.parametrize(
    ("raw", "pipes", "found"),
    [
        ("Done", "|planned|done|", True),
        ("  DONE ", "|planned|done|", True),
        ("don", "|planned|done|", False),
        ("", "||a|", True),
        ("", "|a|", False),
        (None, "||a|", True),
        (1, "|yes|1|", True),
        (1.0, "|yes|1|", True),
        (True, "|true|", True),
        ("planned|done", "|planned|done|", True),  # a value with the separator in it: as FIND sees it
    ],
)
def test_a_value_is_in_a_list_alike_in_the_sheet_and_in_python(raw, pipes, found):
    assert sheet_in(raw, pipes) is found
    assert evaluate(found_in_list("A1", q(pipes)), raw) is found
    assert found_in_list("B9", "L") == 'ISNUMBER(FIND("|"&LOWER(TRIM(B9))&"|",L))'


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("choice", "|planned|done|"),
        ("period", "|q1|fy2026 h2|"),
        ("boolean", "|yes|y|true|1|x|✓|✔|no|n|false|0|"),
    ],
)
def test_options_lists_are_lower_case_pipe_lists(kind, expected):
    assert options_list(kind, ("Planned", "Done"), ("Q1", "FY2026 H2")) == expected


def test_pipe_lists_and_string_literals():
    assert pipe_list(["a", "b"]) == "|a|b|"
    assert pipe_list([]) == "||"
    assert pipe_list(iter(["x"])) == "|x|"
    assert q("say \"hi\"") == '"say ""hi"""'
    assert q("") == '""'
    assert evaluate(q('a"b'), None) == 'a"b'


# ---- the values the sheet sees -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "number"),
    [
        (True, None),  # booleans are not numbers to ISNUMBER
        (False, None),
        (0, 0.0),
        (-3, -3.0),
        (2.5, 2.5),
        (date(1900, 3, 1), 61.0),
        (date(2026, 1, 1), 46023.0),
        (datetime(2026, 1, 1, 18, 0), 46023.75),
        (time(12, 0), 0.5),
        (time(6, 0, 36), 0.25 + 36 / 86400),
        (time(0, 1), 60 / 86400),
        (timedelta(hours=6), 0.25),
        (timedelta(days=2, hours=12), 2.5),
        ("12", None),  # text is text
        (None, None),
    ],
)
def test_the_number_a_cell_holds(raw, number):
    result = sheet_number(raw)
    assert result == pytest.approx(number) if number is not None else result is None
    assert result is None or isinstance(result, float)


def test_excel_serials_count_from_1899_12_30():
    assert excel_serial(date(1899, 12, 31)) == 1.0
    assert excel_serial(datetime(1899, 12, 30, 6)) == 0.25
    assert excel_serial(date(2024, 2, 29)) == 45351.0


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        (None, ""),
        ("", ""),
        ("  as typed ", "  as typed "),
        (True, "TRUE"),
        (False, "FALSE"),
        (5, "5"),
        (5.0, "5"),
        (-7.0, "-7"),
        (2.5, "2.5"),
        (0.1, "0.1"),
        (999_999_999_999_999, "999999999999999"),
        (-999_999_999_999_999.0, "-999999999999999"),
        (1e15, "1000000000000000.0"),  # past Excel's 15 digits: as Python writes it
        (date(2026, 1, 1), "46023"),  # a date is its serial to TRIM
        (time(12, 0), "0.5"),
        ([1, 2], "[1, 2]"),  # anything else: its text
    ],
)
def test_the_text_trim_sees(raw, text):
    assert sheet_text(raw) == text


@pytest.mark.parametrize(
    ("text", "trimmed"),
    [
        ("", ""),
        ("   ", ""),
        ("  a  ", "a"),
        ("a  b   c", "a b c"),
        ("a b", "a b"),
        ("\ta\t", "\ta\t"),  # TRIM takes spaces only
        (" a \t  b ", "a \t b"),
        ("X a X", "X a X"),
    ],
)
def test_trim_collapses_spaces_only(text, trimmed):
    assert sheet_trim(text) == trimmed == excel_trim(text)


# ---- names and places ---------------------------------------------------------------------------------

SHEET = SheetSpec(
    "initiatives",
    "Key Results",
    (Column("id", "ID"), Column("title", "Title"), Column("budget", "Budget", "currency")),
    input_rows=50,
)
OTHER = SheetSpec("kpis", "KPI's", (Column("id", "ID"), Column("x", "X")), input_rows=10)


def test_range_names_and_column_letters():
    assert id_range_name(SHEET) == "KeyResultsIds" and title_range_name(SHEET) == "KeyResultsTitles"
    assert id_range_name(OTHER) == "KPI'sIds"
    assert [key_letter(SHEET, k) for k in ("id", "title", "budget")] == ["A", "B", "C"]


def test_env_places_rows_and_ranges():
    env = Env(load_spec(), SHEET, ("Q1",), header_row=4)
    assert (env.first, env.last(), env.last(OTHER)) == (5, 54, 14)
    assert env.letter("budget") == "C" and env.letter("x", OTHER) == "B"
    assert env.ref("title") == f"B{ROW}"
    assert env.column_range(SHEET, "budget") == "$C$5:$C$54"
    assert env.column_range(OTHER, "x") == "'KPI''s'!$B$5:$B$14"


# ---- what a spreadsheet would run as a formula ---------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "formula"),
    [
        ("=1", True),
        ("=SUM(A1:A3)", True),
        ("  =A1", True),  # leading spaces are skipped
        ("\t=A1", True),
        ("=====", False),  # a divider line
        ("=- -", False),
        ("=", False),
        ("= x", True),
        ("+A1*2", True),
        ("-A1", True),
        ("@SUM(A1:A9)", True),
        ("-2+3", True),
        ("+Sheet1!B2", True),
        ("+'My Sheet'!B2", True),
        ("+$A$1:$B$2", True),
        ('+"a"&B1', True),
        ("+1e3*A1", True),
        ("+50%*A1", True),
        ("+cmd|' /C calc'!A0", True),  # a link to another program
        ("-x|y", True),
        ("-5", False),  # a signed number
        ("+5", False),
        ("-2.5", False),
        ("+6 enterprise logos", False),
        ("- see notes", False),
        ("-----", False),
        ("+5*", False),  # runs nothing
        ("+(", False),
        ("+", False),
        ("-", False),
        ("", False),
        ("A1+1", False),  # no formula sign
        ("x=1", False),
        ("X+A1", False),  # a letter first: text, whatever follows
        ("\u00a0=A1", False),  # a non-breaking space first: text
        ("=X", True),  # a name
        ("+-()", False),  # operators and brackets only: nothing to run
        ("+A1  ", True),  # trailing spaces
        ("-SUM(A1) \t", True),
        ("+A1 extra words", False),
        ("-SUM(", True),
        ("+ A1", True),
        ("+A1B", False),
        ("+foo(1)", True),
        ("+A1(", True),  # a call named like a reference
        ("+1,2", False),
        ("+A1;", True),
    ],
)
def test_looks_like_formula(text, formula):
    assert looks_like_formula(text) is formula


def test_formula_prefixes_and_kinds():
    assert fx.FORMULA_PREFIXES == ("=", "+", "-", "@", "\t", "\r")
    assert fx.TYPED_KINDS == fx.NUMBER_KINDS | fx.LIST_KINDS
    assert fx.DIRECTIONS == ("increase", "decrease", "maintain")
