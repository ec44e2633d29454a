"""Findings: every problem the tool reports is data with a stable code, never a loose string.

The catalogue below is the single place a code, its severity, its title and its hint are
written; README's findings table is generated from it (a test keeps them in step).
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from typing import Any


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 0, "warning": 1, "info": 2}[self.value]


@dataclass(frozen=True)
class FindingKind:
    """One entry of the findings catalogue: what a code means, how severe it is, what to do about it.

    (The row checks that produce findings are ``intake.rules.RowRule``.)"""

    code: str
    severity: Severity
    scope: str  # strategy, file, row, coverage
    title: str
    hint: str


def _r(code: str, severity: str, scope: str, title: str, hint: str) -> FindingKind:
    return FindingKind(code, Severity(severity), scope, title, hint)


CATALOGUE: dict[str, FindingKind] = {
    r.code: r
    for r in (
        # strategy
        _r(
            "strategy-invalid",
            "error",
            "strategy",
            "Strategy file cannot be read",
            "Fix the YAML or workbook syntax; the message says where.",
        ),
        _r(
            "strategy-missing-value",
            "error",
            "strategy",
            "Required strategy value missing",
            "Fill in the value: every objective needs a metric, unit, baseline, target and deadline.",
        ),
        _r(
            "strategy-wrong-type",
            "error",
            "strategy",
            "Strategy value of the wrong type",
            "Type the value as the column expects (a number, a date, one of the listed choices).",
        ),
        _r(
            "strategy-unknown-key",
            "error",
            "strategy",
            "Unknown key in the strategy",
            "A key (or Strategy-sheet field, or column header) the strategy does not have, often a misspelling: "
            "correct it as suggested, or remove it.",
        ),
        _r(
            "target-equals-baseline",
            "error",
            "strategy",
            "Objective target equals its baseline",
            "A SMART objective moves the metric: set a target different from the baseline, or direction 'maintain'.",
        ),
        _r(
            "target-against-direction",
            "error",
            "strategy",
            "Objective target against its direction",
            "An 'increase' objective needs target > baseline, a 'decrease' one target < baseline.",
        ),
        _r("duplicate-id", "error", "strategy", "Duplicate id", "Ids must be unique: rename one of them."),
        _r(
            "invalid-email",
            "error",
            "strategy",
            "Invalid e-mail address",
            "Give a full address such as name@example.com.",
        ),
        _r(
            "unknown-parent",
            "error",
            "strategy",
            "Unknown parent department",
            "A department's parent must be the code of another department.",
        ),
        _r(
            "parent-cycle",
            "warning",
            "strategy",
            "Parents that go round in a cycle",
            "Units whose parents lead back to themselves (or a unit that names itself) have no place in the org "
            "tree: they are taken as reporting to the company. Give the unit at the top its real parent, or none.",
        ),
        _r(
            "aligns-to-without-parent",
            "error",
            "strategy",
            "Aligned to a parent's plan without a parent",
            "A unit with 'aligns_to: parent' needs a parent unit: name its parent, or align it to the objectives.",
        ),
        # file level
        _r(
            "file-unreadable",
            "error",
            "file",
            "Unreadable or corrupt file",
            "Ask the department to save the workbook again as .xlsx and resend it.",
        ),
        _r(
            "file-encrypted",
            "error",
            "file",
            "Password-protected workbook",
            "Ask the department to remove the file password (File > Info > Protect Workbook) and resend.",
        ),
        _r(
            "legacy-format",
            "error",
            "file",
            "Legacy .xls workbook",
            "Ask the department to save as Excel Workbook (.xlsx) and resend.",
        ),
        _r(
            "file-refused",
            "error",
            "file",
            "File refused as unsafe to open",
            "The file was not opened: it would inflate far beyond any workbook (a zip bomb), declares XML "
            "entities, or is otherwise crafted. Ask the department to save the workbook again from Excel or "
            "LibreOffice as .xlsx and resend; treat a file from outside the company as suspicious.",
        ),
        _r(
            "not-a-template",
            "error",
            "file",
            "Not a cascadebook template",
            "This workbook was not generated by cascadebook; send the department its template.",
        ),
        _r(
            "not-a-return",
            "info",
            "file",
            "Not a department's return: the tool's own output",
            "Every workbook cascadebook writes says what it is; a master, diff or strategy workbook (or an export) "
            "among the returns is skipped whatever its name. Nothing to do; keep outputs in another folder.",
        ),
        _r(
            "several-departments",
            "error",
            "file",
            "Workbook holding several departments' rows",
            "The workbook has no cascadebook metadata and its rows belong to more than one department, so it was "
            "not taken. Keep each department's rows in its own template; send the department its template.",
        ),
        _r(
            "identified-by-content",
            "warning",
            "file",
            "Template identified by its visible content",
            "The hidden identity (metadata sheet and document properties) is gone, so the department and cycle "
            "were taken from the sheet titles and prefilled ids and the signature could not be checked. "
            "Confirm with the department that the workbook is theirs; send the original template next cycle.",
        ),
        _r(
            "other-cycle",
            "error",
            "file",
            "Template of another cycle",
            "The department filled an old template: send the current one.",
        ),
        _r(
            "unknown-department",
            "error",
            "file",
            "Unknown department",
            "The template names a department that is not in the strategy.",
        ),
        _r(
            "stale-template",
            "warning",
            "file",
            "Objectives changed since the template was sent",
            "Check the department's choices against the current objectives, or send a fresh template.",
        ),
        _r(
            "signature-mismatch",
            "error",
            "file",
            "Template metadata does not match its signature",
            "The hidden metadata was edited or copied from another template; send the department its own template.",
        ),
        _r(
            "signature-unverified",
            "warning",
            "file",
            "Template signature could not be checked",
            "Keep the strategy's key file beside the strategy (see README, 'Signing key').",
        ),
        _r(
            "superseded-submission",
            "info",
            "file",
            "Superseded submission",
            "A newer workbook from the same department was used; nothing to do unless the older one was meant.",
        ),
        _r(
            "rows-not-taken",
            "info",
            "file",
            "Rows not taken into the master",
            "These rows are in a file that was not used; the file-level finding says why.",
        ),
        _r(
            "macro-enabled",
            "warning",
            "file",
            "Macro-enabled workbook",
            "Macros are never run; the values were read. Ask for a plain .xlsx next time.",
        ),
        _r(
            "department-not-returned",
            "warning",
            "file",
            "Department has not returned its template",
            "Chase the department head; the deadline is in the strategy.",
        ),
        _r("skipped-file", "info", "file", "File skipped", "Only workbooks (.xlsx, .xlsm, .ods, .xls) are read."),
        _r(
            "missing-sheet",
            "error",
            "file",
            "Template sheet missing",
            "A sheet of the template was deleted or renamed; ask for the original workbook.",
        ),
        _r(
            "sheet-renamed",
            "info",
            "file",
            "Template sheet found under another name",
            "Nothing to do: the sheet was recognised by its title or header row. Keep the original sheet names.",
        ),
        _r(
            "extra-sheet",
            "info",
            "file",
            "Sheet not in the template",
            "Sheets the template does not have are not read; the finding lists their rows. Move anything that "
            "matters into the Initiatives or KPIs sheet.",
        ),
        _r(
            "sheet-too-large",
            "error",
            "file",
            "Sheet larger than cascadebook reads",
            "A plan has tens of rows: delete the stray rows or cells far below or right of the plan (or the pasted "
            "data) and resend. Limits: 20,000 rows and 2,000,000 cells per sheet.",
        ),
        _r(
            "stray-cell",
            "warning",
            "file",
            "Value far outside the plan, not read",
            "A value typed far below or right of the rest of the sheet (a stray keystroke, or data pasted far "
            "away) is left out so that the plan can be read; the finding names each cell and its value. If it "
            "matters, move it into the plan's rows; otherwise delete it.",
        ),
        _r(
            "missing-column",
            "error",
            "file",
            "Template column missing",
            "A column header was deleted or renamed; restore it or ask for the original workbook.",
        ),
        _r(
            "extra-column",
            "info",
            "file",
            "Column not in the template",
            "Values in a column the template does not have are not taken; move them into Notes if they matter.",
        ),
        _r(
            "optional-column-missing",
            "info",
            "file",
            "Optional column missing",
            "The workbook lacks an optional column (an older template, or a deleted column); its values are blank.",
        ),
        _r(
            "spec-mismatch",
            "error",
            "file",
            "Workbook made with a template spec that was not found",
            "Put the YAML spec the template was generated with (the name and version the finding names) beside "
            "the strategy, or pass it with --spec, and reconcile again; or send the department a fresh template.",
        ),
        _r(
            "spec-column-not-in-master",
            "warning",
            "file",
            "Column of the workbook's own spec not in the spec in use",
            "The workbook was read with the spec it was made with, but the master follows the spec in use: add the "
            "column to the spec in use, or take its values over by hand.",
        ),
        _r(
            "spec-changed",
            "warning",
            "file",
            "Template spec edited since the template was sent, same version",
            "The template spec (department.yaml) was edited after the template was generated, its version: left "
            "as it was, so the workbook was read with the edited spec and the values of a renamed or removed column "
            "are not in the master. Put a copy of the spec as it was when the templates were generated beside the "
            "strategy (under another file name) or in a subfolder and reconcile again; next time, raise version: "
            "when editing it.",
        ),
        _r(
            "portal-wrong-department",
            "error",
            "file",
            "Workbook uploaded on another department's page",
            "Upload each department's workbook on its own page (its own link); nothing was stored.",
        ),
        _r(
            "sender-not-head",
            "warning",
            "file",
            "Workbook sent by someone other than the department head",
            "Check with the department head that this is their submission, or correct the head's e-mail in the strategy.",
        ),
        _r(
            "checkin-missing",
            "warning",
            "file",
            "Department has not returned its check-in",
            "Chase the department head for the period's check-in; until it comes, its last reported actuals are used.",
        ),
        # row level
        _r(
            "required-missing",
            "error",
            "row",
            "Required value missing",
            "Fill in the cell; every started row needs its required values.",
        ),
        _r(
            "wrong-type",
            "error",
            "row",
            "Value of the wrong type",
            "Type the value as the column expects; the message shows what was found.",
        ),
        _r("value-interpreted", "info", "row", "Value interpreted", "Check that the value was read as meant."),
        _r(
            "read-leniently",
            "info",
            "row",
            "Value the template flags, read anyway",
            "The template's own check flagged this cell while it was filled in (a number or date typed as text, "
            "a value not from the list); reconcile read it as the message says. Check the value.",
        ),
        _r(
            "formula-without-value",
            "warning",
            "row",
            "Formula without a calculated value",
            "The cell holds a formula whose result was never calculated (the file was written by a script or a "
            "program that does not calculate), so it reads as blank. Open and save the workbook in Excel or "
            "LibreOffice, or type the value, and resend.",
        ),
        _r(
            "unknown-objective",
            "error",
            "row",
            "Unknown objective id",
            "Pick the objective from the dropdown (ids are on the Objectives sheet).",
        ),
        _r(
            "unknown-initiative",
            "error",
            "row",
            "KPI points at an unknown initiative",
            "Pick an initiative id from the dropdown; it must be a row of the Initiatives sheet.",
        ),
        _r(
            "untitled-initiative",
            "error",
            "row",
            "KPI points at an initiative with no title",
            "Fill in that initiative on the Initiatives sheet, or pick the id of one that is filled in.",
        ),
        _r(
            "target-direction",
            "warning",
            "row",
            "Target does not move in the objective's direction",
            "For an 'increase' objective the target should be above the baseline, for 'decrease' below.",
        ),
        _r(
            "period-outside-cycle",
            "error",
            "row",
            "Due period outside the cycle",
            "Pick one of the cycle's periods from the dropdown.",
        ),
        _r(
            "duplicate-initiative",
            "error",
            "row",
            "Duplicate id",
            "Each row needs its own id; keep the prefilled ids and do not copy them.",
        ),
        _r(
            "id-assigned",
            "info",
            "row",
            "Row without id given a new id",
            "A row without an id (typed below the template's rows, or never recalculated) got a new id; use it when you "
            "refer to the row.",
        ),
        _r(
            "initiative-without-kpis",
            "warning",
            "row",
            "Initiative without KPIs",
            "Add at least one team or individual KPI for the initiative on the KPIs sheet.",
        ),
        _r(
            "split-not-100",
            "error",
            "row",
            "Objective split does not add up to 100%",
            "Give weights that add up to 100%, e.g. CO1 60% / CO3 40%.",
        ),
        _r(
            "contribution-direction",
            "warning",
            "row",
            "Contribution against the objective's direction, not summed",
            "For a 'decrease' objective a contribution is negative (e.g. -0.5 days); for 'increase' positive.",
        ),
        _r(
            "contribution-unit",
            "warning",
            "row",
            "Contribution in an unexpected unit, not summed",
            "State the contribution in the objective's own unit (split it only over objectives of one unit); for a % objective 3 points is 3% (0.03).",
        ),
        _r(
            "formula-text",
            "info",
            "row",
            "Text that would run as a formula",
            "The text is a formula a spreadsheet would run (=…, or +, - or @ followed by a reference, a function or "
            "arithmetic); it is kept as text in the master.",
        ),
        _r(
            "actual-wrong-type",
            "error",
            "row",
            "Check-in actual of the wrong type",
            "Type the actual as a number in the unit of the baseline and target (18% or 0.18 for a percentage).",
        ),
        _r(
            "actual-missing",
            "warning",
            "row",
            "Check-in without an actual",
            "Fill in the period's actual; until then the last reported actual is used, or none.",
        ),
        _r(
            "actual-backwards",
            "warning",
            "row",
            "Actual moved backwards without a comment",
            "Check the value against the last check-in; if it is right, say why in the Comment column.",
        ),
        _r(
            "checkin-row-not-taken",
            "warning",
            "row",
            "Check-in row not taken",
            "A check-in row reports on an item by its id: a row typed below the listed items has none, and a second "
            "row for the same id is not read. Put the actual on the item's own row (add new initiatives in the next "
            "plan, not in a check-in).",
        ),
        _r(
            "progress-capped",
            "info",
            "row",
            "Actual beyond the target or behind the baseline",
            "Progress is counted as 100% beyond the target and 0% behind the baseline; check the value, or retarget.",
        ),
        # coverage
        _r(
            "objective-uncovered",
            "warning",
            "coverage",
            "Objective with no initiative",
            "No department contributes to this objective: raise it at the goal-mapping session.",
        ),
        _r(
            "commitment-shortfall",
            "warning",
            "coverage",
            "Departments commit less than the target change",
            "Raise it at the goal-mapping session: more initiatives, or larger contributions, are needed.",
        ),
        _r(
            "commitment-surplus",
            "info",
            "coverage",
            "Departments commit far more than the target change",
            "Over 150% of the target change is committed: check for double counting or raise the target.",
        ),
        # the cascade (parent_plan.py, consolidate/cascade.py)
        _r(
            "parent-initiative-unknown",
            "error",
            "row",
            "Not an initiative of the parent unit's plan",
            "Pick one of the parent's initiatives from the dropdown (listed on the Parent plan sheet), or a "
            "corporate objective id; until then the row counts as Unaligned.",
        ),
        _r(
            "parent-initiative-in-error",
            "warning",
            "row",
            "Aligned to a parent initiative that has an error",
            "The row counts under it for now; the parent unit mends its row (see its findings), and the next "
            "cascade round offers it again.",
        ),
        _r(
            "parent-not-returned",
            "warning",
            "file",
            "The parent unit has not returned its plan",
            "Rows aligned to the parent's initiatives count as Unaligned until its plan comes back; chase the "
            "parent unit, then reconcile again.",
        ),
        _r(
            "parent-plan-changed",
            "warning",
            "file",
            "The parent's plan changed since this template was made",
            "Check that the rows aligned to the parent's initiatives still fit; `generate --from MASTER "
            "--cascade` makes a template from the parent's current plan.",
        ),
        _r(
            "parent-commitment-shortfall",
            "warning",
            "coverage",
            "Child units commit less than the parent initiative's target change",
            "More initiatives below it, or larger contributions, are needed; or lower the parent's target.",
        ),
        _r(
            "parent-commitment-surplus",
            "info",
            "coverage",
            "Child units commit far more than the parent initiative's target change",
            "Over 150% of the parent initiative's target change is committed: check for double counting or "
            "raise its target.",
        ),
        _r(
            "over-budget-cap",
            "warning",
            "coverage",
            "Budget over the cap",
            "The initiatives ask more budget than the strategy allows; trim or re-prioritise.",
        ),
        _r(
            "over-headcount-cap",
            "warning",
            "coverage",
            "Headcount over the cap",
            "The initiatives ask more people than the strategy allows; trim or re-prioritise.",
        ),
        _r(
            "department-no-contribution",
            "warning",
            "coverage",
            "Department contributes to no objective",
            "The department returned no usable initiative; ask it to propose at least one.",
        ),
        # review: finance's decisions carried from the previous master
        _r(
            "decision-changed",
            "warning",
            "review",
            "Initiative changed since it was decided",
            "The decision was kept, but the initiative's title, objective, target or budget is not what it was when "
            "decided (the Review check column says what changed, old -> new): review it again, and change the "
            "decision or comment if needed.",
        ),
        _r(
            "decision-column-edited",
            "warning",
            "review",
            "Finance's decision column typed into",
            "Finance's decision columns (at the right of the Initiatives sheet) are read-only and are not read: to "
            "dispute a decision or reply to a comment, write to finance, or say it in the row's Notes column.",
        ),
        _r(
            "decision-orphaned",
            "warning",
            "review",
            "Decision whose initiative is gone",
            "The department's plan no longer has the initiative (or its plan was not taken this time); the decision "
            "is kept on the 'Decisions without an initiative' sheet and returns to the initiative if it comes back. "
            "Check with the department whether it was dropped or renumbered.",
        ),
        # review: the decisions checked by `cascadebook decisions` before they go back to the departments
        _r(
            "approved-budget-above-request",
            "error",
            "review",
            "Approved budget above the request",
            "Finance approved more budget than the department asked for (a typo, often an extra zero). Correct the "
            "Approved budget cell; to grant more, ask the department to raise the request in its return.",
        ),
        _r(
            "approved-headcount-above-request",
            "error",
            "review",
            "Approved headcount above the request",
            "Finance approved more headcount than the department asked for. Correct the Approved headcount cell; to "
            "grant more, ask the department to raise the request in its return.",
        ),
        _r(
            "approved-not-a-number",
            "error",
            "review",
            "Approved amount is not a number",
            "Type the approved budget or headcount as a number (600000, not '600k'); blank means as requested. "
            "Until then it approves nothing (0), as the master's totals count it.",
        ),
        _r(
            "approved-amount-missing",
            "warning",
            "review",
            "Approved with changes, but no approved amount",
            "The decision says the amounts changed but none is typed, so the request is taken as approved. Type the "
            "approved budget or headcount, or choose the plain approval.",
        ),
        _r(
            "revise-without-comment",
            "error",
            "review",
            "Revise without a comment",
            "The department cannot tell what to revise: say what to change in the Comment cell.",
        ),
        _r(
            "decision-unknown",
            "error",
            "review",
            "Decision label not in the dropdown",
            "The Decision cell holds something typed or pasted that is not one of the dropdown's labels: pick one "
            "from the dropdown (or add the label to the spec's review decisions).",
        ),
        _r(
            "decision-on-error",
            "warning",
            "review",
            "Approval of an initiative with errors",
            "The master's Findings sheet has errors on this initiative's row of the department's return: the "
            "approval may rest on a wrong value. Have the department fix it, or decide Revise.",
        ),
        _r(
            "decision-unconfirmed",
            "warning",
            "review",
            "Decision not re-confirmed after its initiative changed",
            "The initiative changed since the decision was made (the Review check column says how). Review it again; "
            "to re-confirm the decision as it stands, clear the row's Review check cell (an input): the next "
            "reconcile records the initiative as it is now.",
        ),
    )
}


@dataclass(frozen=True)
class Finding:
    """One problem, with where it is as Excel shows it (file, sheet, A1 cell, 1-based row)."""

    code: str
    message: str
    file: str = ""
    sheet: str = ""
    cell: str = ""
    department: str = ""
    location: str = ""  # for YAML strategies: the key path, e.g. objectives[2].target
    rows: tuple[int, ...] = field(default=())  # for rows-not-taken: the row numbers concerned

    def __post_init__(self) -> None:
        if self.code not in CATALOGUE:
            raise KeyError(f"unknown finding code {self.code!r}")

    @property
    def kind(self) -> FindingKind:
        return CATALOGUE[self.code]

    @property
    def severity(self) -> Severity:
        return self.kind.severity

    @property
    def hint(self) -> str:
        return self.kind.hint

    @property
    def where(self) -> str:
        place = f"{self.sheet}!{self.cell}" if self.sheet and self.cell else self.sheet or self.location
        return ": ".join(p for p in (self.file, place) if p)

    def sort_key(self) -> tuple:
        return (self.severity.rank, self.department, self.file, self.sheet, _cell_order(self.cell), self.code)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["rows"] = list(self.rows)
        data["severity"] = self.severity.value
        data["hint"] = self.hint
        return data


def _cell_order(cell: str) -> tuple[int, str]:
    digits = "".join(ch for ch in cell if ch.isdigit())
    letters = "".join(ch for ch in cell if ch.isalpha())
    return (int(digits) if digits else 0, letters.rjust(3))


def count_by_severity(findings) -> dict[str, int]:
    counts = {s.value: 0 for s in Severity}
    for f in findings:
        counts[f.severity.value] += 1
    return counts


def catalogue_markdown() -> str:
    """The README's findings table, generated from the catalogue so the two cannot drift."""
    lines = ["| code | severity | scope | what | hint |", "|---|---|---|---|---|"]
    for rule in CATALOGUE.values():
        lines.append(f"| `{rule.code}` | {rule.severity.value} | {rule.scope} | {rule.title} | {rule.hint} |")
    return "\n".join(lines)


MORE_IN_MASTER = "see the master's Findings sheet"


def format_finding_line(f: Finding) -> str:
    """One finding as a linter prints it: ``file: Sheet!Cell: severity code: message``."""
    where = f.where or (f"department {f.department}" if f.department else "cycle")
    return f"{where}: {f.severity.value} {f.code}: {f.message}"


def finding_lines(
    findings, severities=(Severity.ERROR,), cap: int | None = 50, more: str = MORE_IN_MASTER
) -> list[str]:
    """The findings of ``severities`` as lines, errors first, grouped by department, file and sheet, in cell
    order; past ``cap`` lines one more line says how many were left out and where to see them."""
    wanted = {Severity(s) for s in severities}
    chosen = sorted((f for f in findings if f.severity in wanted), key=Finding.sort_key)
    lines = [format_finding_line(f) for f in (chosen if cap is None else chosen[:cap])]
    if cap is not None and len(chosen) > cap:
        lines.append(f"… and {len(chosen) - cap} more ({more})")
    return lines


def cell_finding(code: str, message: str, record: Any, key: str) -> Finding:
    """A finding at one cell of a returned row (a ``model.Record``): its file, sheet and department,
    and the cell of column ``key`` (column A of its row when the row has no such cell)."""
    return Finding(
        code,
        message,
        file=record.file,
        sheet=record.sheet_name,
        cell=record.cells.get(key, f"A{record.row}"),
        department=record.department,
    )
