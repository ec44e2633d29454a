"""The spreadsheet side of the row rules: the names of the template's ranges, the Python twins of
what a formula sees (so reconcile knows when a value it can read is one the sheet flags), the pieces
formulas are built from, and ``Check``/``Env``: one problem, one cell, one message, as a formula.

Formulas use only functions Excel 2016+, LibreOffice and Google Sheets evaluate alike; see
:mod:`cascadebook.intake.rules` for the rules themselves and why the two sides agree.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

from cascadebook.spec.schema import Column, SheetSpec, Spec
from cascadebook.spec.values import _BOOL, BLANK_MARKERS
from cascadebook.xlsx.addresses import column_letter, quote_sheet

ROW = "\ue000"  # stands for the row number in a formula template; see SheetChecks.at
MARKERS_NAME = "BlankMarkers"  # defined name of the cell holding the "n/a" words as a |list|
OBJECTIVE_IDS = "ObjectiveIds"
OBJECTIVE_DIRECTIONS = "ObjectiveDirections"
NUMBER_KINDS = frozenset({"number", "currency", "percent", "integer", "date"})
LIST_KINDS = frozenset({"choice", "period", "boolean"})
TYPED_KINDS = NUMBER_KINDS | LIST_KINDS
DIRECTIONS = ("increase", "decrease", "maintain")
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
LOOKS_LIKE_PERIOD = re.compile(r"^\s*(?:fy)?\s*(?:\d{4}\s*[-/ ]?\s*)?[qh]\s*\d", re.I)
_EPOCH = datetime(1899, 12, 30)
# What may follow a leading +, - or @ in a formula a spreadsheet runs: references, function calls,
# numbers, strings, operators. "+A1*2" and "@SUM(A1:A9)" are formulas; "+6 enterprise logos" is text.
_REF = r"(?:(?:'(?:[^']|'')+'|[A-Za-z_][\w.]*)!)?\$?[A-Za-z]{1,3}\$?[0-9]+(?::\$?[A-Za-z]{1,3}\$?[0-9]+)?"
_FORMULA_TOKEN = re.compile(
    rf"""\s*(?:(?P<ref>{_REF})(?![\w(])|(?P<call>[A-Za-z_][\w.]*\()
    |(?P<operand>"(?:[^"]|"")*"|[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?%?)|(?P<op>[-+*/^&=<>:])|[();,])""",
    re.X,
)
_DDE = re.compile(r"[A-Za-z_][\w.]*\s*\|")  # cmd|' /C calc'!A0: a link to another program


def looks_like_formula(text: str) -> bool:
    """Whether a spreadsheet would run ``text`` as a formula (typed, pasted or opened from a CSV).

    "=" starts a formula whatever follows. After "+", "-" or "@" it is one only when the rest reads
    as a formula: a cell reference, a function call or arithmetic ("+A1*2", "@SUM(A1:A9)", "-2+3"),
    or a link to another program ("+cmd|..."); a signed number ("-5") or words ("+6 enterprise
    logos", "- see notes") are text.
    """
    text = text.lstrip(" \t\r\n")
    if len(text) < 2 or text[0] not in "=+-@":
        return False
    if text[0] == "=":
        return text.strip("=- ") != ""  # "=====" is a divider line
    rest = text[1:]
    if _DDE.search(rest):
        return True
    position, active, operand, last = 0, False, False, None
    while position < len(rest):
        match = _FORMULA_TOKEN.match(rest, position)
        if match is None or match.end() == position:
            if rest[position:].strip():
                return False  # words: text
            break
        active = active or bool(match["ref"] or match["call"] or match["op"])
        operand = operand or bool(match["ref"] or match["call"] or match["operand"])
        position, last = match.end(), match
    return active and operand and not last["op"]  # "-----" or "+5*" runs nothing


def id_range_name(sheet: SheetSpec) -> str:
    """Defined name holding a sheet's id column, used by dropdowns and checks that refer to it."""
    return f"{sheet.title.replace(' ', '')}Ids"


def title_range_name(sheet: SheetSpec) -> str:
    """Defined name holding a sheet's title column (KPIs check that their initiative has one)."""
    return f"{sheet.title.replace(' ', '')}Titles"


def key_letter(sheet: SheetSpec, key: str) -> str:
    """The column letter of a spec column (the spec's order is the template's)."""
    return column_letter(sheet.columns.index(sheet.column(key)) + 1)


def pipe_list(items: Iterable[str]) -> str:
    """'|a|b|': the form FIND looks a |value| up in."""
    return "|" + "|".join(items) + "|"


def blank_markers(exclude: Iterable[str] = ()) -> str:
    """The words spec/values.py reads as blank, with the empty string, as a |list| (lower case)."""
    excluded = {e.casefold() for e in exclude}
    return pipe_list(["", *sorted(m for m in BLANK_MARKERS if m not in excluded)])


def q(text: str) -> str:
    """A formula string literal."""
    return '"' + text.replace('"', '""') + '"'


def excel_serial(value: date | datetime) -> float:
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    return (value - _EPOCH) / timedelta(days=1)


def sheet_number(raw: Any) -> float | None:
    """The number a cell holds for ISNUMBER (dates and times are numbers), else None."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, (int, float)):
        return float(raw)
    if isinstance(raw, (datetime, date)):
        return excel_serial(raw)
    if isinstance(raw, time):
        return (raw.hour * 3600 + raw.minute * 60 + raw.second) / 86400
    if isinstance(raw, timedelta):
        return raw / timedelta(days=1)
    return None


def sheet_text(raw: Any) -> str:
    """The text TRIM(cell) sees: numbers in General format, booleans TRUE/FALSE."""
    if raw is None:
        return ""
    if isinstance(raw, str):
        return raw
    if isinstance(raw, bool):
        return "TRUE" if raw else "FALSE"
    number = sheet_number(raw)
    if number is None:
        return str(raw)
    return str(int(number)) if number.is_integer() and abs(number) < 1e15 else repr(number)


def sheet_trim(text: str) -> str:
    """Excel's TRIM: spaces only, inner runs collapsed."""
    text = text.strip(" ")
    return re.sub(" {2,}", " ", text) if "  " in text else text


def sheet_in(raw: Any, pipes: str) -> bool:
    """Twin of ISNUMBER(FIND("|"&LOWER(TRIM(cell))&"|", pipes))."""
    return f"|{sheet_trim(sheet_text(raw)).lower()}|" in pipes


@lru_cache(maxsize=256)
def options_list(kind: str, choices: tuple[str, ...], periods: tuple[str, ...]) -> str:
    items = {"choice": choices, "period": periods, "boolean": tuple(_BOOL)}[kind]
    return pipe_list(str(i).lower() for i in items)


def _needle(ref: str) -> str:
    return f'"|"&LOWER(TRIM({ref}))&"|"'


def found_in_list(ref: str, pipes: str) -> str:
    return f"ISNUMBER(FIND({_needle(ref)},{pipes}))"


def markers_for(col: Column) -> tuple[str, str]:
    """(formula operand, python |list|) of what is blank in this column, the empty string included."""
    if col.type == "choice" and {c.casefold() for c in col.choices} & BLANK_MARKERS:
        pipes = blank_markers(col.choices)  # a choice that is also an "n/a" word is the choice
        return q(pipes), pipes
    return MARKERS_NAME, blank_markers()


def blank_formula(col: Column, ref: str) -> str:
    """TRUE when the cell reads as blank to spec/values.py: spaces only, or (not in text) an "n/a" word."""
    if col.type == "text":
        return f'TRIM({ref})=""'
    return found_in_list(ref, markers_for(col)[0])


def sheet_blank(col: Column, raw: Any) -> bool:
    if col.type == "text":
        return sheet_trim(sheet_text(raw)) == ""
    return sheet_in(raw, markers_for(col)[1])


@dataclass(frozen=True)
class Check:
    """One thing the sheet checks on every row, with the words the Check column uses for it.

    ``codes`` are the reconcile finding codes it shows; ``code`` is the one it is counted under in
    the status panel; ``key`` is the column reconcile reports it at (and the cell that turns red).
    A value check is decided by its column's chain of conditions (``_column_chain``); a row check
    has its own ``test``. ``after`` names columns whose own checks must pass first (the direction is
    judged once baseline and target are numbers).
    """

    code: str
    codes: frozenset[str]
    key: str
    message: str
    test: str = ""
    after: tuple[str, ...] = ()


@dataclass(frozen=True)
class Env:
    """Where things are in the template, for one input sheet's formulas."""

    spec: Spec
    sheet: SheetSpec
    periods: tuple[str, ...]
    header_row: int  # 1-based row of the headers; data below it
    ids_listed_on: str = "Objectives"  # the sheet the objective column's ids are listed on (Parent plan: the cascade)

    @property
    def first(self) -> int:
        return self.header_row + 1

    def last(self, sheet: SheetSpec | None = None) -> int:
        return self.header_row + (sheet or self.sheet).input_rows

    def letter(self, key: str, sheet: SheetSpec | None = None) -> str:
        return key_letter(sheet or self.sheet, key)

    def ref(self, key: str) -> str:
        return f"{self.letter(key)}{ROW}"

    def column_range(self, sheet: SheetSpec, key: str) -> str:
        letter = self.letter(key, sheet)
        where = f"${letter}${self.first}:${letter}${self.last(sheet)}"
        return where if sheet is self.sheet else f"{quote_sheet(sheet.title)}!{where}"
