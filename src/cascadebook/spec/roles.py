"""Roles: what the code relies on a spec's sheets and columns for, so it never spells a key or a header.

A spec is the organisation's to edit: keys, headers and sheet titles may all be renamed in YAML. The
few columns the code must understand (the target a direction rule checks, the budget the Summary adds
up, the initiative a KPI hangs from, ...) say so with ``role:``, and the code asks a sheet for the
column with a role (:meth:`~cascadebook.spec.schema.SheetSpec.by_role`, ``key_of``, ``header_of``) and
a spec for the sheet with a role (:meth:`~cascadebook.spec.schema.Spec.sheet_by_role`). A column
without a role is a plain column: it travels through reading, validation and the master by its key,
and no code knows about it.

This module is the catalogue: every role, what it means, which sheet role it belongs on, whether a
sheet of that role must have it, and the column types it may have. The loader (``schema.parse_spec``)
checks a spec against it; a spec written before roles existed (no ``role:`` at all) is given roles by
the old conventional keys below, and behaves as it did.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

# ---- sheet roles ---------------------------------------------------------------------------------

INITIATIVES = "initiatives"  # the department plan's initiatives
KPIS = "kpis"  # the department plan's KPIs, each under an initiative
CHECKIN_INITIATIVES = "checkin_initiatives"  # a check-in's sheet of the plan's initiatives
CHECKIN_KPIS = "checkin_kpis"  # a check-in's sheet of the plan's KPIs

# The master's review columns (the spec's ``review:`` section, spec/schema.py ReviewSpec): finance's decision
# on each initiative. Not a sheet of the template: the columns exist only on the master's Initiatives table.
REVIEW = "review"

PLAN_SHEETS = (INITIATIVES, KPIS)
CHECKIN_SHEETS = (CHECKIN_INITIATIVES, CHECKIN_KPIS)

# ---- column roles --------------------------------------------------------------------------------

ID = "id"
OBJECTIVE_REF = "objective_ref"
INITIATIVE_REF = "initiative_ref"
TITLE = "title"
IMPACT = "impact"
UNIT = "unit"
BASELINE = "baseline"
TARGET = "target"
DUE_PERIOD = "due_period"
OWNER = "owner"
TEAM = "team"
LEVEL = "level"
BUDGET = "budget"
HEADCOUNT = "headcount"
CONTRIBUTION_WEIGHT = "contribution_weight"
CONTRIBUTION = "contribution"
OBJECTIVE_SPLIT = "objective_split"
ACTUAL = "actual"
PREVIOUS_ACTUAL = "previous_actual"
STATUS = "status"
COMMENT = "comment"
DECISION = "decision"
APPROVED_BUDGET = "approved_budget"
APPROVED_HEADCOUNT = "approved_headcount"
REVIEWER = "reviewer"
REVIEW_COMMENT = "review_comment"
REVIEW_CHECK = "review_check"

# What a decision label means to cascadebook (a spec's ``review.decisions`` maps its labels to these).
APPROVE = "approve"  # approved: the typed approved amounts, else the request
APPROVE_CHANGED = "approve_changed"  # approved with the typed (changed) amounts
REVISE = "revise"  # sent back for revision: decided, nothing approved yet
REJECT = "reject"  # rejected: nothing approved
DECISION_MEANINGS = (APPROVE, APPROVE_CHANGED, REVISE, REJECT)

NUMBERS = frozenset({"number", "integer", "percent", "currency"})


@dataclass(frozen=True)
class SheetRole:
    name: str
    description: str
    key: str  # the conventional sheet key: a spec without roles gives the sheet with this key the role
    plan: str = ""  # a check-in sheet role: the plan's sheet role it reports on


@dataclass(frozen=True)
class Role:
    """A column role: ``sheets`` maps each sheet role it may be on to whether that sheet must have it."""

    name: str
    description: str
    sheets: Mapping[str, bool]
    types: frozenset[str]
    key: str  # the conventional key: a spec without roles gives the column with this key the role
    header: str  # the conventional header: the master's label for it where a spec has no such column
    source: str = ""  # a reference column with this role must point at this ("objectives" or a sheet role)
    keys: Mapping[str, str] = field(default_factory=dict)  # sheet role -> its conventional key, where not ``key``

    def conventional_key(self, sheet_role: str) -> str:
        return self.keys.get(sheet_role, self.key)

    def required_on(self, sheet_role: str) -> bool:
        return bool(self.sheets.get(sheet_role))


SHEET_ROLES: dict[str, SheetRole] = {
    s.name: s
    for s in (
        SheetRole(
            INITIATIVES, "the initiatives a department proposes, each against corporate objectives", "initiatives"
        ),
        SheetRole(KPIS, "the team and individual KPIs, each measuring one initiative", "kpis"),
        SheetRole(CHECKIN_INITIATIVES, "a check-in's actuals of the plan's initiatives", "", plan=INITIATIVES),
        SheetRole(CHECKIN_KPIS, "a check-in's actuals of the plan's KPIs", "", plan=KPIS),
    )
}

# The review columns' sheet role: a column role of it is checked by the spec's ``review:`` section. It is not
# in SHEET_ROLES, which are the template's sheets.
REVIEW_SHEET = SheetRole(REVIEW, "finance's decision on each initiative, on the master's Initiatives table", "")

_ALL = {INITIATIVES: False, KPIS: False, CHECKIN_INITIATIVES: False, CHECKIN_KPIS: False}
_TEXTS = frozenset({"text", "choice"})


def _role(
    name: str,
    description: str,
    sheets: Mapping[str, bool],
    types: Iterable[str],
    key: str,
    header: str,
    source: str = "",
    keys: Mapping[str, str] | None = None,
) -> Role:
    return Role(name, description, dict(sheets), frozenset(types), key, header, source, dict(keys or {}))


ROLES: dict[str, Role] = {
    r.name: r
    for r in (
        _role(
            ID,
            "the row's id (prefilled); findings, KPIs, check-ins and the next cycle refer to the row by it",
            {INITIATIVES: True, KPIS: True, CHECKIN_INITIATIVES: True, CHECKIN_KPIS: True},
            {"text"},
            "id",
            "ID",
        ),
        _role(
            OBJECTIVE_REF,
            "the corporate objective an initiative serves: commitments, the matrix, the direction rule",
            {INITIATIVES: True, CHECKIN_INITIATIVES: False},
            {"reference", "text"},
            "objective_id",
            "Objective",
            "objectives",
        ),
        _role(
            INITIATIVE_REF,
            "the initiative a KPI measures: the Goal Hierarchy, the export, check-ins",
            {KPIS: True, CHECKIN_KPIS: False},
            {"reference", "text"},
            "initiative_id",
            "Initiative ID",
            INITIATIVES,
        ),
        _role(
            TITLE,
            "the row in one line (an initiative's title, a KPI's name): the master, diffs, check-ins",
            {INITIATIVES: True, KPIS: True, CHECKIN_INITIATIVES: False, CHECKIN_KPIS: False},
            {"text"},
            "title",
            "Initiative",
            keys={KPIS: "name", CHECKIN_KPIS: "name"},  # a KPI's title was always its name
        ),
        _role(
            IMPACT,
            "the expected result, shown in the matrix and the hierarchy",
            {INITIATIVES: False},
            {"text"},
            "expected_impact",
            "Expected impact",
        ),
        _role(
            UNIT,
            "the unit of baseline and target (a % item's actuals are read as percentages)",
            _ALL,
            _TEXTS,
            "unit",
            "Unit",
        ),
        _role(
            BASELINE, "where the metric is today: the direction rule, progress", _ALL, NUMBERS, "baseline", "Baseline"
        ),
        _role(
            TARGET,
            "where the metric will be: the direction rule, progress",
            {INITIATIVES: True, KPIS: True, CHECKIN_INITIATIVES: False, CHECKIN_KPIS: False},
            NUMBERS,
            "target",
            "Target",
        ),
        _role(
            DUE_PERIOD,
            "when the target is due: progress's expected pace",
            _ALL,
            {"period", "text", "date"},
            "due_period",
            "Due period",
        ),
        _role(OWNER, "the person accountable", _ALL, _TEXTS, "owner", "Owner"),
        _role(TEAM, "the team owning a KPI", {KPIS: False, CHECKIN_KPIS: False}, _TEXTS, "team", "Team"),
        _role(
            LEVEL,
            "Team or Individual: the Goal Hierarchy's level of a KPI",
            {KPIS: False, CHECKIN_KPIS: False},
            _TEXTS,
            "level",
            "Level",
        ),
        _role(
            BUDGET,
            "the budget requested: the Summary, Commitments and caps add it up",
            {INITIATIVES: False},
            NUMBERS,
            "budget",
            "Budget",
        ),
        _role(
            HEADCOUNT,
            "the people needed: the Summary, Commitments and caps add it up",
            {INITIATIVES: False},
            NUMBERS,
            "headcount",
            "Headcount",
        ),
        _role(
            CONTRIBUTION_WEIGHT,
            "how much of the objective the initiative carries: progress roll-ups",
            {INITIATIVES: False, CHECKIN_INITIATIVES: False},
            {"percent", "number"},
            "contribution_weight",
            "Weight",
        ),
        _role(
            CONTRIBUTION,
            "what the initiative adds to the objective's target: commitments",
            {INITIATIVES: False},
            NUMBERS,
            "contribution",
            "Contribution",
        ),
        _role(
            OBJECTIVE_SPLIT,
            "the objectives an initiative serves, with weights: commitments",
            {INITIATIVES: False},
            {"allocation"},
            "objective_split",
            "Objective split",
        ),
        _role(
            ACTUAL,
            "where the metric stands at a check-in: progress",
            {CHECKIN_INITIATIVES: True, CHECKIN_KPIS: True},
            NUMBERS,
            "actual",
            "Actual",
        ),
        _role(
            PREVIOUS_ACTUAL,
            "the actual of the last check-in, printed in the workbook",
            {CHECKIN_INITIATIVES: False, CHECKIN_KPIS: False},
            NUMBERS,
            "previous_actual",
            "Last actual",
        ),
        _role(
            STATUS,
            "the department's view (on track, at risk, ...): progress",
            {CHECKIN_INITIATIVES: False, CHECKIN_KPIS: False},
            _TEXTS,
            "status",
            "Status",
        ),
        _role(
            COMMENT,
            "what happened: the earlier check-ins",
            {CHECKIN_INITIATIVES: False, CHECKIN_KPIS: False},
            {"text"},
            "comment",
            "Comment",
        ),
        _role(
            DECISION,
            "finance's decision (a label of the spec's review.decisions): what is approved, what is sent back",
            {REVIEW: True},
            {"choice"},
            "decision",
            "Decision",
        ),
        _role(
            APPROVED_BUDGET,
            "the budget finance approves (blank: as requested, for an approval)",
            {REVIEW: False},
            NUMBERS,
            "approved_budget",
            "Approved budget",
        ),
        _role(
            APPROVED_HEADCOUNT,
            "the headcount finance approves (blank: as requested, for an approval)",
            {REVIEW: False},
            NUMBERS,
            "approved_headcount",
            "Approved headcount",
        ),
        _role(REVIEWER, "who decided", {REVIEW: False}, _TEXTS, "reviewer", "Reviewer"),
        _role(
            REVIEW_COMMENT,
            "why, or what to change: sent back to the department with the decision",
            {REVIEW: False},
            {"text"},
            "review_comment",
            "Comment",
        ),
        _role(
            REVIEW_CHECK,
            "written by reconcile: whether the initiative changed since it was decided, and how",
            {REVIEW: False},
            {"text"},
            "review_check",
            "Review check",
        ),
    )
}


def conventional_sheet_role(key: str) -> str:
    """The role a sheet of a spec without roles has by its key ("" for none)."""
    return next((s.name for s in SHEET_ROLES.values() if s.key and s.key == key), "")


def conventional_role(sheet_role: str, key: str) -> str:
    """The role a column of a sheet without roles has by its key ("" for none)."""
    return next(
        (r.name for r in ROLES.values() if sheet_role in r.sheets and r.conventional_key(sheet_role) == key), ""
    )


def required(sheet_role: str) -> list[str]:
    """The column roles a sheet of ``sheet_role`` must have, in catalogue order."""
    return [r.name for r in ROLES.values() if r.required_on(sheet_role)]


def plan_role(sheet_role: str) -> str:
    """The plan's sheet role a check-in sheet role reports on; a plan sheet role is its own."""
    found = SHEET_ROLES.get(sheet_role)
    return (found.plan or found.name) if found is not None else ""
