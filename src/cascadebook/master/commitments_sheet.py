"""The Commitments sheet: what the departments commit against each objective's target change."""

from __future__ import annotations

from itertools import chain

from cascadebook.consolidate.commitments import UNALIGNED, UNALIGNED_TITLE, left_out_text
from cascadebook.consolidate.reconcile import Reconciliation
from cascadebook.master.book import (
    OBJECTIVE_COLUMNS,
    MasterWriter,
    Table,
    cell_ref,
    column_label,
    literal,
    sum_over,
    write_formula,
)
from cascadebook.master.review_figures import REQUESTED, ReviewFigures
from cascadebook.master.tables import Contributions
from cascadebook.spec.roles import (
    BUDGET,
    HEADCOUNT,
    INITIATIVES,
)
from cascadebook.spec.schema import Spec
from cascadebook.xlsx.addresses import column_letter
from cascadebook.xlsx.layout import header_height, row_height

COMMITMENT_INITIATIVES, COMMITMENT_BUDGET, COMMITMENT_HEADCOUNT = 11, 13, 14  # 0-based columns
COMMITMENT_TITLE, COMMITMENT_RATIO, COMMITMENT_STATUS = 1, 10, 16
COMMITMENT_APPROVED_BUDGET, COMMITMENT_APPROVED_HEADCOUNT = 17, 18  # finance's decisions (issue 19)

COMMITMENTS_SHEET = "Commitments"
COMMITMENT_WIDTHS = [10, 44, 15, 8, 10, 15, 15, 15, 15, 15, 11, 10, 18, 14, 10, 14, 10, 14, 10, 9, 36]


def commitment_headers(spec: Spec) -> list[str]:
    """The Commitments sheet's headers; the initiatives, budget and headcount ones as the spec says them."""
    initiatives = spec.sheet_by_role(INITIATIVES)
    labels = Contributions.of(spec)
    return [
        *OBJECTIVE_COLUMNS,
        "Target change",
        "Committed",
        "Gap",
        "Committed %",
        initiatives.title if initiatives is not None else INITIATIVES,
        "Departments",
        column_label(initiatives, BUDGET),
        column_label(initiatives, HEADCOUNT),
        "Budget cap",
        "Status",
        labels.approved_budget,
        labels.approved_headcount,
        "Left out",
        "Why left out",
    ]


def write_commitments(
    w: MasterWriter, result: Reconciliation, tables: dict[str, Table], figures: ReviewFigures
) -> None:
    """Per objective: target change, what departments commit, the gap, budget and headcount, and what
    finance approved of them (the Contributions table's approved shares, master/review_figures.py); then
    the share of initiatives no recognised objective takes, so the totals are the Summary's."""
    ws = w.sheet(COMMITMENTS_SHEET)
    contrib = tables["contributions"]
    labels = Contributions.of(result.spec)
    objective = labels.objective  # the Contributions column of each share's objective
    headers = commitment_headers(result.spec)
    w.header_row(ws, 0, headers, COMMITMENT_WIDTHS)
    ws.set_row(0, header_height(zip(headers, COMMITMENT_WIDTHS)))
    ws.freeze_panes(1, 2)
    left_out_col = headers.index("Left out")

    approved_shares: dict[str, list[float]] = {}  # objective -> [approved budget, headcount]: the cached sums
    for a in chain(result.allocations, result.unaligned) if figures.rows else ():  # nothing approved: all 0
        mine = approved_shares.setdefault(a.objective_id, [0.0, 0.0])
        for j, role in enumerate(REQUESTED):
            mine[j] += figures.share(a.index, role, a.weight)

    def approved(i: int, n: int, objective_id: str) -> None:  # what finance approved of the objective's shares
        sums = approved_shares.get(objective_id, [0.0, 0.0])
        for col, header, value, fmt in (
            (COMMITMENT_APPROVED_BUDGET, labels.approved_budget, sums[0], w.money),
            (COMMITMENT_APPROVED_HEADCOUNT, labels.approved_headcount, sums[1], None),
        ):
            write_formula(ws, i, col, sum_over("SUMIF", contrib, objective, cell_ref(n, 1), header), value, fmt)

    def left_out(i: int, n: int, count: int, text: str) -> None:  # contributions not summed, and why
        write_formula(
            ws,
            i,
            left_out_col,
            sum_over("COUNTIFS", contrib, objective, cell_ref(n, 1), "Left out", literal("<>")),
            count,
        )
        ws.write_string(i, left_out_col + 1, text)

    for i, c in enumerate(result.commitments, 1):
        o, n = c.objective, i + 1
        unit = w.unit(o.unit, (o.baseline, o.target))
        ws.set_row(i, row_height([(o.title, COMMITMENT_WIDTHS[1]), (", ".join(c.departments), COMMITMENT_WIDTHS[12])]))
        for col, value in enumerate([o.id, o.title, o.perspective, o.unit, o.direction]):
            w.value(ws, i, col, value, w.wrap if col == 1 else None)
        w.value(ws, i, 5, o.baseline, unit)
        w.value(ws, i, 6, o.target, unit)
        write_formula(ws, i, 7, f"G{n}-F{n}", c.target_change, unit)
        write_formula(
            ws, i, 8, sum_over("SUMIF", contrib, objective, cell_ref(n, 1), labels.contribution), c.committed, unit
        )
        write_formula(ws, i, 9, f"H{n}-I{n}", c.gap, unit)
        write_formula(ws, i, 10, f'IF(H{n}=0,"",I{n}/H{n})', "" if c.ratio is None else c.ratio, w.percent)
        write_formula(ws, i, 11, sum_over("COUNTIF", contrib, objective, cell_ref(n, 1)), c.initiatives)
        ws.write_string(i, 12, ", ".join(c.departments), w.wrap)
        write_formula(
            ws, i, 13, sum_over("SUMIF", contrib, objective, cell_ref(n, 1), labels.budget), c.budget, w.money
        )
        write_formula(ws, i, 14, sum_over("SUMIF", contrib, objective, cell_ref(n, 1), labels.headcount), c.headcount)
        w.value(ws, i, 15, o.budget_cap, w.money)
        write_formula(
            ws,
            i,
            16,
            f'IF(L{n}=0,"gap",IF(K{n}="","",IF(K{n}<1,"short",IF(K{n}>1.5,"surplus","covered"))))',
            commitment_status(c),
        )
        approved(i, n, o.id)
        left_out(i, n, c.left_out_count, c.left_out_text)
    last = len(result.commitments)
    # The initiatives' shares no objective takes (objective unknown or blank, split short of 100%)
    unaligned = result.unaligned
    i, n = last + 1, last + 2
    ws.write_string(i, 0, UNALIGNED, w.label)
    ws.write_string(i, 1, UNALIGNED_TITLE, w.wrap)
    write_formula(ws, i, 11, sum_over("COUNTIF", contrib, objective, cell_ref(n, 1)), len(unaligned))
    ws.write_string(i, 12, ", ".join(sorted({a.department for a in unaligned})))
    write_formula(
        ws,
        i,
        13,
        sum_over("SUMIF", contrib, objective, cell_ref(n, 1), labels.budget),
        sum(a.budget for a in unaligned if a.budget is not None),
        w.money,
    )
    write_formula(
        ws,
        i,
        14,
        sum_over("SUMIF", contrib, objective, cell_ref(n, 1), labels.headcount),
        sum(a.headcount for a in unaligned if a.headcount is not None),
    )
    approved(i, n, UNALIGNED)
    reasons: dict[str, int] = {}
    for a in unaligned:
        if a.stated is not None:
            reasons[a.left_out or ""] = reasons.get(a.left_out or "", 0) + 1
    left_out(i, n, sum(reasons.values()), left_out_text(reasons.items()))
    total = last + 2
    ws.write_string(total, 0, "Total", w.total)
    totals = {  # objectives and the Unaligned line: the Summary's budget and headcount
        13: sum(c.budget for c in result.commitments) + sum(a.budget or 0 for a in unaligned),
        14: sum(c.headcount for c in result.commitments) + sum(a.headcount or 0 for a in unaligned),
        left_out_col: sum(c.left_out_count for c in result.commitments) + sum(reasons.values()),
        COMMITMENT_APPROVED_BUDGET: sum(v[0] for v in approved_shares.values()),
        COMMITMENT_APPROVED_HEADCOUNT: sum(v[1] for v in approved_shares.values()),
    }
    for col in range(1, len(headers)):
        if col in totals:
            letter = column_letter(col + 1)
            write_formula(
                ws,
                total,
                col,
                f"SUM({letter}2:{letter}{total})",
                totals[col],
                w.total_money if col in (13, COMMITMENT_APPROVED_BUDGET) else w.total,
            )
        else:
            ws.write_blank(total, col, None, w.total)
    ws.conditional_format(
        1,
        10,
        last,
        10,
        {
            "type": "data_bar",
            "bar_color": "#5B9BD5",
            "bar_solid": True,
            "min_type": "num",
            "min_value": 0,
            "max_type": "num",
            "max_value": 1.5,
        },
    )
    ws.conditional_format(1, 16, last, 16, {"type": "cell", "criteria": "==", "value": '"gap"', "format": w.bad})
    ws.conditional_format(1, 16, last, 16, {"type": "cell", "criteria": "==", "value": '"short"', "format": w.warn})
    ws.conditional_format(1, 16, last, 16, {"type": "cell", "criteria": "==", "value": '"covered"', "format": w.good})
    ws.conditional_format(
        1, 13, last, 13, {"type": "formula", "criteria": "=AND(ISNUMBER($P2),$N2>$P2)", "format": w.bad}
    )
    ws.conditional_format(
        1, left_out_col, last + 1, left_out_col, {"type": "cell", "criteria": ">", "value": 0, "format": w.warn}
    )
    ws.autofilter(0, 0, last + 1, len(headers) - 1)


def commitment_status(c) -> str:
    """The Status column's value of a commitment (gap, short, covered, surplus or blank), as its formula says."""
    if not c.initiatives:
        return "gap"
    if c.ratio is None:
        return ""
    return "short" if c.ratio < 1 else ("surplus" if c.ratio > 1.5 else "covered")
