"""The findings catalogue, second part: across the returns (coverage, commitments, the cascade), finance's
review and the decisions sent back (findings.CATALOGUE joins the parts)."""

from __future__ import annotations

from cascadebook.finding_kinds import FindingKind, kind

CYCLE_KINDS: tuple[FindingKind, ...] = (
    # coverage
    kind(
        "objective-uncovered",
        "warning",
        "coverage",
        "Objective with no initiative",
        "No department contributes to this objective: raise it at the goal-mapping session.",
    ),
    kind(
        "commitment-shortfall",
        "warning",
        "coverage",
        "Departments commit less than the target change",
        "Raise it at the goal-mapping session: more initiatives, or larger contributions, are needed.",
    ),
    kind(
        "commitment-surplus",
        "info",
        "coverage",
        "Departments commit far more than the target change",
        "Over 150% of the target change is committed: check for double counting or raise the target.",
    ),
    # the cascade (parent_plan.py, consolidate/cascade.py)
    kind(
        "parent-initiative-unknown",
        "error",
        "row",
        "Not an initiative of the parent unit's plan",
        "Pick one of the parent's initiatives from the dropdown (listed on the Parent plan sheet), or a "
        "corporate objective id; until then the row counts as Unaligned.",
    ),
    kind(
        "parent-initiative-in-error",
        "warning",
        "row",
        "Aligned to a parent initiative that has an error",
        "The row counts under it for now; the parent unit mends its row (see its findings), and the next "
        "cascade round offers it again.",
    ),
    kind(
        "parent-not-returned",
        "warning",
        "file",
        "The parent unit has not returned its plan",
        "Rows aligned to the parent's initiatives count as Unaligned until its plan comes back; chase the "
        "parent unit, then reconcile again.",
    ),
    kind(
        "parent-plan-changed",
        "warning",
        "file",
        "The parent's plan changed since this template was made",
        "Check that the rows aligned to the parent's initiatives still fit; `generate --from MASTER "
        "--cascade` makes a template from the parent's current plan.",
    ),
    kind(
        "parent-commitment-shortfall",
        "warning",
        "coverage",
        "Child units commit less than the parent initiative's target change",
        "More initiatives below it, or larger contributions, are needed; or lower the parent's target.",
    ),
    kind(
        "parent-commitment-surplus",
        "info",
        "coverage",
        "Child units commit far more than the parent initiative's target change",
        "Over 150% of the parent initiative's target change is committed: check for double counting or "
        "raise its target.",
    ),
    kind(
        "over-budget-cap",
        "warning",
        "coverage",
        "Budget over the cap",
        "The initiatives ask more budget than the strategy allows; trim or re-prioritise.",
    ),
    kind(
        "over-headcount-cap",
        "warning",
        "coverage",
        "Headcount over the cap",
        "The initiatives ask more people than the strategy allows; trim or re-prioritise.",
    ),
    kind(
        "department-no-contribution",
        "warning",
        "coverage",
        "Department contributes to no objective",
        "The department returned no usable initiative; ask it to propose at least one.",
    ),
    # review: finance's decisions carried from the previous master
    kind(
        "decision-changed",
        "warning",
        "review",
        "Initiative changed since it was decided",
        "The decision was kept, but the initiative's title, objective, target or budget is not what it was when "
        "decided (the Review check column says what changed, old -> new): review it again, and change the "
        "decision or comment if needed.",
    ),
    kind(
        "decision-column-edited",
        "warning",
        "review",
        "Finance's decision column typed into",
        "Finance's decision columns (at the right of the Initiatives sheet) are read-only and are not read: to "
        "dispute a decision or reply to a comment, write to finance, or say it in the row's Notes column.",
    ),
    kind(
        "decision-orphaned",
        "warning",
        "review",
        "Decision whose initiative is gone",
        "The department's plan no longer has the initiative (or its plan was not taken this time); the decision "
        "is kept on the 'Decisions without an initiative' sheet and returns to the initiative if it comes back. "
        "Check with the department whether it was dropped or renumbered.",
    ),
    # review: the decisions checked by `cascadebook decisions` before they go back to the departments
    kind(
        "approved-budget-above-request",
        "error",
        "review",
        "Approved budget above the request",
        "Finance approved more budget than the department asked for (a typo, often an extra zero). Correct the "
        "Approved budget cell; to grant more, ask the department to raise the request in its return.",
    ),
    kind(
        "approved-headcount-above-request",
        "error",
        "review",
        "Approved headcount above the request",
        "Finance approved more headcount than the department asked for. Correct the Approved headcount cell; to "
        "grant more, ask the department to raise the request in its return.",
    ),
    kind(
        "approved-not-a-number",
        "error",
        "review",
        "Approved amount is not a number",
        "Type the approved budget or headcount as a number (600000, not '600k'); blank means as requested. "
        "Until then it approves nothing (0), as the master's totals count it.",
    ),
    kind(
        "approved-amount-missing",
        "warning",
        "review",
        "Approved with changes, but no approved amount",
        "The decision says the amounts changed but none is typed, so the request is taken as approved. Type the "
        "approved budget or headcount, or choose the plain approval.",
    ),
    kind(
        "revise-without-comment",
        "error",
        "review",
        "Revise without a comment",
        "The department cannot tell what to revise: say what to change in the Comment cell.",
    ),
    kind(
        "decision-unknown",
        "error",
        "review",
        "Decision label not in the dropdown",
        "The Decision cell holds something typed or pasted that is not one of the dropdown's labels: pick one "
        "from the dropdown (or add the label to the spec's review decisions).",
    ),
    kind(
        "decision-on-error",
        "warning",
        "review",
        "Approval of an initiative with errors",
        "The master's Findings sheet has errors on this initiative's row of the department's return: the "
        "approval may rest on a wrong value. Have the department fix it, or decide Revise.",
    ),
    kind(
        "decision-unconfirmed",
        "warning",
        "review",
        "Decision not re-confirmed after its initiative changed",
        "The initiative changed since the decision was made (the Review check column says how). Review it again; "
        "to re-confirm the decision as it stands, clear the row's Review check cell (an input): the next "
        "reconcile records the initiative as it is now.",
    ),
)
