"""Finance's review in figures: decided and undecided initiatives, approved against requested budget and
headcount, per department (the Summary), per objective (the Commitments sheet, through the Contributions
table) and in all (the Summary's facts, the Dashboard).

What a decision approves (REVIEW-DESIGN.md, "What a decision means"): approve and approve_changed, the
typed approved amount, else (blank) the request; revise, reject and no decision, nothing. Every figure is
a live formula over the Initiatives table's review columns, so it follows what finance types; the value
cached with it is computed here from the decisions known when the master is written (those carried from
an earlier master), reading the cells as the formulas do, so viewers that do not recalculate show what
Excel would:

* a Decision cell counts by its label as typed, case aside (``COUNTIFS`` / ``=``); a label with stray
  spaces or one the spec does not have is undecided here (the dropdown offers only the labels);
* an approved amount counts when it is a number; a blank one stands for the request (a number, else 0);
  text ("n/a") approves 0.

Per department and in all: ``SUMIFS`` / ``COUNTIFS`` over the table (as the requested totals already
are). Per objective: each row of the Contributions table (an initiative's share of an objective, by
weight, as its requested budget is) refers to its initiative's row directly, which costs one cell per
row, where a lookup per row would cost the whole table per row. Finance may sort the Initiatives table
(the master allows it), which moves the initiatives but not the references to their rows: so each share
first checks that the row it refers to is still its initiative (department and id) and looks the
initiative up (``SUMIFS`` by department and id) only when it is not. Unsorted, a share costs one cell;
sorted, the figures stay right and cost a lookup each until the next reconcile writes them anew.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cascadebook.consolidate.packed import value_rows
from cascadebook.consolidate.reconcile import Reconciliation
from cascadebook.kinds import DEPARTMENT_HEADER
from cascadebook.master.book import Table, literal, sum_over
from cascadebook.master.review import CarriedReview
from cascadebook.spec.review import approved_amount
from cascadebook.spec.roles import (
    APPROVE,
    APPROVE_CHANGED,
    APPROVED_BUDGET,
    APPROVED_HEADCOUNT,
    BUDGET,
    DECISION,
    HEADCOUNT,
    ID,
    INITIATIVES,
)
from cascadebook.xlsx.addresses import column_letter, quote_sheet
from cascadebook.xlsx.limits import EXCEL_MAX_ROWS, continued_sheet
from cascadebook.xlsx.writer import Formula

APPROVING = (APPROVE, APPROVE_CHANGED)
# The plan role each approved role stands against (the request)
REQUESTED = {APPROVED_BUDGET: BUDGET, APPROVED_HEADCOUNT: HEADCOUNT}


@dataclass
class Tally:
    """Decided initiatives and what is approved, of one department or of all."""

    decided: int = 0
    approved: dict[str, float] = field(default_factory=lambda: {APPROVED_BUDGET: 0.0, APPROVED_HEADCOUNT: 0.0})


def _number(value: Any) -> float:
    """A cell's value as SUMIFS / ISNUMBER take it: a number, else 0."""
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


def _criterion(label: str) -> str:
    """A COUNTIFS criterion matching the label exactly (case aside): '=' first, wildcards escaped."""
    return "=" + label.replace("~", "~~").replace("*", "~*").replace("?", "~?")


class ReviewFigures:
    """The review's formulas over the master's Initiatives table and their cached values (the decisions
    ``review`` carried into the master being written; none: every initiative undecided).

    ``decision``, ``approved`` (role -> header) and ``requested`` (role -> header, "" when the spec has
    no such column) are the Initiatives table's headers, found by role; ``labels`` the Decision
    labels, ``approving`` those that approve.
    """

    inits: Table  # the master's Initiatives table (:meth:`bind`), which the formulas go over

    def __init__(self, result: Reconciliation, review: CarriedReview | None = None):
        spec = result.spec
        sheet = spec.require_sheet(INITIATIVES)
        self.enabled = spec.review.enabled
        self.decision = spec.review.header_of(DECISION)
        self.approved = {role: spec.review.header_of(role) for role in REQUESTED}
        self.id = sheet.header_of(ID)  # the Initiatives table's id column (a share's row is checked by it)
        self.requested = {role: sheet.header_of(plan) for role, plan in REQUESTED.items()}
        self.labels = spec.review.labels
        self.approving = tuple(label for label, meaning in spec.review.decisions if meaning in APPROVING)
        self.total = Tally()
        self.departments: dict[str, Tally] = {}
        self._templates: dict[tuple[int, str], str] = {}
        self.rows: dict[int, dict[str, float]] = {}  # initiative position -> approved role -> amount (approving)
        if self.enabled and review is not None and review.rows:
            self._tally(result, review)

    def bind(self, inits: Table) -> ReviewFigures:
        """Set the Initiatives table the formulas refer to (master/tables.py makes it)."""
        self.inits = inits
        return self

    # ---- cached values ------------------------------------------------------------------------------

    def _tally(self, result: Reconciliation, review: CarriedReview) -> None:
        """One pass over the initiatives with a decision: what the formulas compute from their cells."""
        spec = result.spec
        sheet = spec.require_sheet(INITIATIVES)
        labels = {label.casefold() for label in self.labels}
        approving = {label.casefold() for label in self.approving}
        decision_key = spec.review.key_of(DECISION)
        plan_keys = [sheet.key_of(REQUESTED[role]) for role in REQUESTED]
        rows = review.rows
        for i, (department, _file, _row, requests) in enumerate(value_rows(result.initiatives, plan_keys)):
            carried = rows.get(i)
            if carried is None:
                continue
            values = carried.decision.values
            label = values.get(decision_key)
            typed = label.casefold() if isinstance(label, str) else None
            if typed not in labels:
                continue
            mine = self.departments.setdefault(department, Tally())
            for tally in (mine, self.total):
                tally.decided += 1
            if typed not in approving:
                continue
            amounts = {}
            for (role, key), request in zip(((r, spec.review.key_of(r)) for r in REQUESTED), requests):
                value = values.get(key) if key else None
                amount = approved_amount(spec.review.meaning(label), value, request) or 0.0  # spec/review.py
                amounts[role] = amount
                for tally in (mine, self.total):
                    tally.approved[role] += amount
            self.rows[i] = amounts

    def of(self, department: str | None) -> Tally:
        """The tally of a department (by code), or of all (None)."""
        return self.total if department is None else self.departments.get(department, Tally())

    def share(self, index: int, role: str, weight: float) -> float:
        """An initiative's approved amount times the weight of one of its shares (a Contributions row)."""
        amounts = self.rows.get(index)
        return amounts[role] * weight if amounts is not None else 0.0

    # ---- formulas -----------------------------------------------------------------------------------

    def decided(self, department: tuple[str, str] | None = None) -> str:
        """How many initiatives (of a department: its code's cell) have a decision label."""
        if not self.enabled or not self.labels:
            return "0"
        where: list[str | tuple[str, str]] = ["Department", department] if department is not None else []
        return "+".join(
            sum_over("COUNTIFS", self.inits, *where, self.decision, literal(_criterion(label))) for label in self.labels
        )

    def approved_total(self, role: str, department: tuple[str, str] | None = None) -> str:
        """What is approved of ``role`` (approved_budget, approved_headcount), of a department or of all:
        per approving label, the typed amounts, plus the requests where the amount is blank."""
        approved, requested = self.approved[role], self.requested[role]
        if not self.enabled or not self.approving or not approved:
            return "0"
        where: list[str | tuple[str, str]] = ["Department", department] if department is not None else []
        parts = []
        for label in self.approving:
            match = literal(_criterion(label))
            parts.append(sum_over("SUMIFS", self.inits, approved, *where, self.decision, match))
            if requested:
                parts.append(
                    sum_over("SUMIFS", self.inits, requested, *where, self.decision, match, approved, literal(""))
                )
        return "+".join(parts)

    def share_formula(self, index: int, role: str, weight_cell: str, here: str = "2") -> str:
        """The approved amount of the ``index``-th initiative (its own row of the Initiatives table, by
        reference) times ``weight_cell``, the share's weight; ``here`` is the Contributions row's own number
        (its department in $A, its initiative id in $B). Built once per sheet and role, then only
        the row numbers change (a formula for every row of the Contributions table)."""
        chunk, row = divmod(index, EXCEL_MAX_ROWS - 1)
        template = self._templates.get((chunk, role))
        if template is None:
            template = self._templates[(chunk, role)] = self._template(
                continued_sheet(self.inits.sheet, chunk + 1), role
            )
        return template.replace(_ROW, str(row + 2)).replace(_WEIGHT, weight_cell).replace(_HERE, here)

    def _template(self, sheet: str, role: str) -> str:
        """:meth:`share_formula` with the initiative's row and the weight's cell left open."""
        approved, requested = self.approved[role], self.requested[role]
        if not self.enabled or not self.approving or not approved:
            return "0"

        def cell(header: str) -> str:
            return f"{quote_sheet(sheet)}!${column_letter(self.inits.headers.index(header) + 1)}{_ROW}"

        decision, typed = cell(self.decision), cell(approved)
        asked = cell(requested) if requested else ""
        request = f"IF(ISNUMBER({asked}),{asked},0)" if asked else "0"
        test = ",".join(f"{decision}={literal(label)[1]}" for label in self.approving)
        direct = f'IF(OR({test}),IF({typed}="",{request},IF(ISNUMBER({typed}),{typed},0))*{_WEIGHT},0)'
        # the row referred to is still the initiative's (the table not sorted since it was written)?
        same = f"AND({cell(DEPARTMENT_HEADER)}=$A{_HERE},{cell(self.id)}=$B{_HERE})"
        return f"IF({same},{direct},({self._lookup(approved, requested)})*{_WEIGHT})"

    def _lookup(self, approved: str, requested: str) -> str:
        """The initiative's approved amount looked up by department and id (the Contributions row's own
        cells $A and $B): what :meth:`_template` falls back to when the table was sorted. Like the
        totals, a typed amount counts when it is a number and a blank one stands for the request."""
        where: list[str | tuple[str, str]] = [DEPARTMENT_HEADER, ("lit", f"$A{_HERE}"), self.id, ("lit", f"$B{_HERE}")]
        parts = []
        for label in self.approving:
            match = literal(_criterion(label))
            parts.append(sum_over("SUMIFS", self.inits, approved, *where, self.decision, match))
            if requested:
                parts.append(
                    sum_over("SUMIFS", self.inits, requested, *where, self.decision, match, approved, literal(""))
                )
        return "+".join(parts) or "0"


# the open places of a share's formula (never in a header or label cell reference): the initiative's row,
# the weight's cell, the Contributions row itself
_ROW, _WEIGHT, _HERE = "\x00", "\x01", "\x02"


def share_cells(figures: ReviewFigures, position: int, allocation: Any, weight_column: int) -> list[Formula]:
    """The approved budget and headcount cells of the ``position``-th Contributions row (``allocation``,
    its weight in the 1-based ``weight_column`` of the same row)."""
    here = str(position % (EXCEL_MAX_ROWS - 1) + 2)
    weight_cell = f"${column_letter(weight_column)}{here}"
    index, share = allocation.index, figures.share
    return [
        Formula(figures.share_formula(index, role, weight_cell, here), share(index, role, allocation.weight))
        for role in REQUESTED
    ]
