"""Finance's decisions, shown in the next round's template (``generate --from MASTER``).

The master holds a decision per initiative (spec ``review:``, read by master/decisions_read.py); the
next planning round starts from the master, so each department sees what finance decided on the rows
it is given back: read-only columns to the right of the Initiatives sheet's inputs (after the Check
column and a blank spacer), headed by the spec's review headers (found by role). A rejected row is
struck through in grey and its input cells locked; a Revise row is amber, with finance's comment
beside it; the approved amounts sit on the row beside the request.

The columns are display only: the signed metadata names them (``Metadata.decision_columns``) so that
intake neither reports them as unknown columns nor reads them as plan values, and signs what they show
(``Metadata.decision_values``) so that a value typed over them is reported (``decision-column-edited``). The decision itself
stays in the master and is carried over there (master/review.py), not through the template.

This module is passed plain data: the department's ``model.Decision`` objects (the template layer is
below the master's, so it does not read masters).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cascadebook.intake.decision_cells import encode
from cascadebook.intake.sheet_checks import SheetChecks
from cascadebook.model import Decision
from cascadebook.spec.review import approved_amount as review_approved_amount
from cascadebook.spec.roles import (
    APPROVE,
    APPROVE_CHANGED,
    APPROVED_BUDGET,
    APPROVED_HEADCOUNT,
    BUDGET,
    DECISION,
    DECISION_MEANINGS,
    HEADCOUNT,
    ID,
    INITIATIVES,
    REJECT,
    REVIEW_COMMENT,
    REVIEWER,
    REVISE,
)
from cascadebook.spec.schema import Column, SheetSpec, Spec
from cascadebook.spec.values import is_blank
from cascadebook.template.layout import cell_number_format
from cascadebook.template.styles import PREFILLED_FILL, READY_FILL, READY_FONT
from cascadebook.xlsx.writer import write_value

SHOWN_ROLES = (DECISION, APPROVED_BUDGET, APPROVED_HEADCOUNT, REVIEWER, REVIEW_COMMENT)  # in the spec's order
APPROVED_OF = {APPROVED_BUDGET: BUDGET, APPROVED_HEADCOUNT: HEADCOUNT}  # approved amount -> the request's role
REJECTED_FILL, REJECTED_FONT = "#D9D9D9", "#7F7F7F"
REVISE_FILL = "#FFC000"  # amber: stronger than the inputs' pale yellow, so a Revise row stands out
SPACER_WIDTH = 2
CAPTION = "Finance's decision on last round's plan (read only)"
LEGEND = (
    "Columns at the right of the Initiatives sheet show finance's decision on last round's plan: approved "
    "amounts beside your request. Amber rows were sent back for revision (the comment says what to change); "
    "grey struck-through rows were rejected and are locked."
)


@dataclass(frozen=True)
class DecisionDisplay:
    """What one Initiatives sheet shows of finance's decisions: the review columns shown (by role), where
    they start (0-based column), and each prefilled row's decision (0-based index into the given rows)."""

    sheet: SheetSpec
    columns: tuple[Column, ...]
    first: int
    hidden: tuple[int, int]  # the Check column's hidden counts (0-based, inclusive) between it and the spacer
    rows: Mapping[int, Decision]
    requests: Mapping[int, Mapping[str, Any]]  # row index -> request role -> value (budget, headcount)
    ids: Mapping[int, Any]  # row index -> its initiative id

    @property
    def digest(self) -> str:
        """``Metadata.decision_values``: what each decided row shows, signed so that intake notices a value
        typed over it (intake/decision_cells.py)."""
        return encode((self.ids[i], [self.value(i, col) for col in self.columns]) for i in self.rows)

    @property
    def last(self) -> int:
        return self.first + len(self.columns) - 1

    @property
    def marker(self) -> str:
        """``Metadata.decision_columns``: the sheet and the headers of the columns shown."""
        return f"{self.sheet.key}:" + "|".join(c.header for c in self.columns)

    @property
    def width(self) -> float:
        """The spacer's and the columns' widths (for the sheet's print width)."""
        return SPACER_WIDTH + sum(self.column_width(c) for c in self.columns)

    def column_width(self, col: Column) -> float:
        """The spec's width, and the Decision column as wide as its longest label (it is not typed into here)."""
        longest = max((len(str(d.values.get(col.key) or "")) for d in self.rows.values()), default=0)
        return max(col.width, longest + 2) if col.role == DECISION else col.width

    def meaning(self, index: int) -> str:
        decision = self.rows.get(index)
        return decision.meaning if decision is not None else ""

    def value(self, index: int, col: Column) -> Any:
        """What row ``index`` shows under ``col``: the typed value, and for an approved amount what the
        decision approves (REVIEW-DESIGN "What a decision means")."""
        decision = self.rows[index]
        typed = decision.values.get(col.key)
        if col.role in APPROVED_OF:
            return approved_amount(decision.meaning, typed, self.requests[index].get(APPROVED_OF[col.role]))
        return typed


def approved_amount(meaning: str, typed: Any, requested: Any) -> Any:
    """The amount a decision approves, shown beside the request: by the master's rule
    (:func:`cascadebook.spec.review.approved_amount`); no decision (or a label the spec lacks): what was typed."""
    if meaning in DECISION_MEANINGS:
        return review_approved_amount(meaning, typed, requested)  # the master's rule (spec/review.py)
    return typed


def display_for(
    spec: Spec, sheet: SheetSpec, given: Sequence[Mapping[str, Any]], decisions: Iterable[Decision], checks: SheetChecks
) -> DecisionDisplay | None:
    """The decisions shown on ``sheet`` (the Initiatives sheet) for its prefilled rows ``given``, matched by
    initiative id (case aside); None when none matches, so a template without decisions is unchanged."""
    if sheet.role != INITIATIVES or not spec.review.enabled:
        return None
    id_key = sheet.key_of(ID)
    by_id = {d.initiative_id.strip().casefold(): d for d in decisions if d.initiative_id.strip()}
    rows = {
        i: by_id[str(row.get(id_key)).strip().casefold()]
        for i, row in enumerate(given)
        if not is_blank(row.get(id_key)) and str(row.get(id_key)).strip().casefold() in by_id
    }
    if not rows:
        return None
    columns = tuple(c for c in spec.review.columns if c.role in SHOWN_ROLES)
    requests = {i: {role: given[i].get(sheet.key_of(role)) for role in (BUDGET, HEADCOUNT)} for i in rows}
    # after the Check column and its hidden counts (template.department._live_checks), then a spacer
    first = checks.column + 3 + len(checks.kinds)
    ids = {i: given[i].get(id_key) for i in rows}
    return DecisionDisplay(sheet, columns, first, (checks.column + 1, first - 2), rows, requests, ids)


class DecisionFormats:
    """The formats of the marked rows and the decision columns, made once per workbook."""

    def __init__(self, book, currency: str = "") -> None:
        self.book, self.currency = book, currency
        self._made: dict[tuple, object] = {}
        self.caption = book.add_format({"italic": True, "bold": True, "font_color": "#404040"})
        self.legend = book.add_format(
            {"bg_color": REVISE_FILL, "border": 1, "border_color": "#BFBFBF", "text_wrap": True, "valign": "top"}
        )

    def cell(self, column_type: str, meaning: str, *, locked: bool = True) -> object:
        """A cell of a marked row (``meaning``: reject grey and struck through, revise amber, approve
        green on the decision columns), in ``column_type``'s number format; unlocked when ``locked`` is False."""
        key = (column_type, meaning, locked)
        if key not in self._made:
            props: dict[str, Any] = {"border": 1, "border_color": "#BFBFBF", "valign": "top", "locked": locked}
            props["text_wrap"] = column_type == "text"
            if cell_number_format(column_type, self.currency):
                props["num_format"] = cell_number_format(column_type, self.currency)
            if meaning == REJECT:
                props.update(bg_color=REJECTED_FILL, font_color=REJECTED_FONT, font_strikeout=True)
            elif meaning == REVISE:
                props["bg_color"] = REVISE_FILL
            elif meaning in (APPROVE, APPROVE_CHANGED):
                props.update(bg_color=READY_FILL, font_color=READY_FONT)
            else:
                props["bg_color"] = PREFILLED_FILL
            self._made[key] = self.book.add_format(props)
        return self._made[key]


def input_format(display: DecisionDisplay | None, formats: DecisionFormats, index: int, col: Column) -> object | None:
    """The format of an input cell on row ``index`` when its decision marks it: a rejected row's locked
    grey strike-through, a Revise row's amber (still unlocked); None for an unmarked row."""
    meaning = display.meaning(index) if display is not None else ""
    if meaning == REJECT:
        return formats.cell(col.type, REJECT)
    if meaning == REVISE:
        return formats.cell(col.type, REVISE, locked=False)
    return None


def write_display(ws, display: DecisionDisplay, formats: DecisionFormats, header_format, header_row: int) -> None:
    """The decision columns: a caption above them (row 3), the spec's review headers on ``header_row``
    (0-based), and each decided row's values, locked and coloured by its decision."""
    # LibreOffice shows a column of width 0 at its ordinary width unless it is also hidden: the counts
    # would then push the decisions a screen to the right
    ws.set_column(*display.hidden, 0, None, {"hidden": True})
    ws.set_column(display.first - 1, display.first - 1, SPACER_WIDTH)
    ws.write_string(header_row - 1, display.first, CAPTION, formats.caption)
    for c, col in enumerate(display.columns, display.first):
        ws.set_column(c, c, display.column_width(col))
        ws.write_string(header_row, c, col.header, header_format)
    for index in display.rows:
        r = header_row + 1 + index
        meaning = display.meaning(index)
        for c, col in enumerate(display.columns, display.first):
            shown = meaning if col.role in (DECISION, REVIEW_COMMENT) or meaning == REJECT else ""
            write_value(ws, r, c, display.value(index, col), formats.cell(col.type, shown))


def write_legend(ws, row: int, formats: DecisionFormats) -> str:
    """The Instructions' line on the decision marks, at ``row`` (0-based) of column B; returns its text."""
    ws.write_string(row, 1, LEGEND, formats.legend)
    return LEGEND
