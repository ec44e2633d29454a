"""The "Parent plan" sheet of a unit aligned to its parent's plan (the cascade, issue 20).

It lists the parent unit's initiatives a child may align to, each with the corporate objective(s) it
serves, and takes over the names the objective column's dropdown and live checks look up (``ObjectiveIds``,
``ObjectiveDirections``): in such a template the objective column offers the parent's initiative ids, and the
target-direction check follows the parent initiative's direction. Headers are the spec's (by role); nothing
here knows a column key.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cascadebook.intake.formulas import OBJECTIVE_DIRECTIONS, OBJECTIVE_IDS
from cascadebook.kinds import PARENT_PLAN_SHEET
from cascadebook.model import Department, Record, Strategy
from cascadebook.spec.roles import BASELINE, DUE_PERIOD, ID, INITIATIVES, OBJECTIVE_REF, OWNER, TARGET, TITLE, UNIT
from cascadebook.spec.schema import Spec, load_spec
from cascadebook.template.formats import Formats
from cascadebook.template.layout import PageText, print_setup, unit_format
from cascadebook.template.styles import PROTECT_OPTIONS
from cascadebook.xlsx.addresses import column_letter, quote_sheet
from cascadebook.xlsx.layout import header_height, row_height
from cascadebook.xlsx.writer import write_value

SHOWN = (ID, OBJECTIVE_REF, TITLE, UNIT, BASELINE, TARGET, DUE_PERIOD, OWNER)  # the initiatives' columns shown


@dataclass(frozen=True)
class ParentPlan:
    """What a child's template offers: the parent unit, its initiatives (``parent_plan.offered``), what each
    serves (corporate objective ids, weights when split), which way each moves, and the plan's fingerprint."""

    parent: Department
    rows: tuple[Record, ...]
    serves: tuple[str, ...]
    directions: tuple[str, ...]
    fingerprint: str


def write_parent_plan(book, fmt: Formats, strategy: Strategy, spec: Spec, plan: ParentPlan, page: PageText) -> None:
    sheet = spec.sheet_by_role(INITIATIVES)
    if sheet is None:
        return
    columns = [c for role in SHOWN for c in [sheet.by_role(role)] if c is not None]
    objectives = load_spec("strategy").sheet("objectives")
    direction_header = next(c.header for c in objectives.columns if c.key == "direction")  # as _objectives reads it
    ws = book.add_worksheet(PARENT_PLAN_SHEET)
    ws.write_string(
        0,
        0,
        f"The plan of {plan.parent.name} ({plan.parent.code}): align each of your initiatives to one of these",
        fmt.title,
    )
    headers = [c.header for c in columns] + [direction_header]
    serves_width = max((len(text) + 2 for text in plan.serves), default=10)  # "CO1 60% / CO3 40%" unclipped
    widths = [max(serves_width if c.role == OBJECTIVE_REF else c.width, 10) for c in columns] + [11]
    for c, (header, width) in enumerate(zip(headers, widths)):
        ws.set_column(c, c, width)
        ws.write_string(2, c, header, fmt.header)
    ws.set_row(2, header_height(list(zip(headers, widths))))
    unit_key, base_key, target_key = sheet.key_of(UNIT), sheet.key_of(BASELINE), sheet.key_of(TARGET)
    for r, (record, serves, way) in enumerate(zip(plan.rows, plan.serves, plan.directions), 3):
        numbers = (record.values.get(base_key), record.values.get(target_key))
        in_unit = fmt.unit(unit_format(spec, record.values.get(unit_key), strategy.currency, numbers))
        for c, col in enumerate(columns):
            value = serves if col.role == OBJECTIVE_REF else record.values.get(col.key)
            write_value(ws, r, c, value, in_unit if col.role in (BASELINE, TARGET) else fmt.reference(col.type))
        ws.write_string(r, len(columns), way, fmt.reference("text"))
        ws.set_row(r, row_height([(record.values.get(c.key), w) for c, w in zip(columns, widths) if c.role == TITLE]))
    last = len(plan.rows) + 3
    print_setup(ws, page, width=sum(widths), repeat=2, area=(last - 1, len(headers) - 1))
    ws.freeze_panes(3, 1)
    ws.autofilter(2, 0, max(last - 1, 3), len(headers) - 1)
    ws.protect("", PROTECT_OPTIONS)
    title = quote_sheet(PARENT_PLAN_SHEET)
    book.define_name(OBJECTIVE_IDS, f"={title}!$A$4:$A${last}")
    way = column_letter(len(columns) + 1)
    book.define_name(OBJECTIVE_DIRECTIONS, f"={title}!${way}$4:${way}${last}")


def instruction(plan: ParentPlan, sheets: Sequence[str]) -> str:
    """The Instructions' first step for such a template."""
    return (
        f"1. Your plan cascades from {plan.parent.name}'s: its initiatives are on the {PARENT_PLAN_SHEET} sheet "
        f"(the corporate objectives they serve are on the Objectives sheet). On the {sheets[0]} sheet, pick in the "
        "objective column the parent initiative each of yours serves (or split it over several)."
    )
