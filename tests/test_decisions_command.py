"""`cascadebook decisions` (issue 19): finance's decisions read back from a real master, checked, and written
as one decision workbook and one reply draft per department.

One cycle is built once (module scope): three departments return, reconcile writes the master, finance
types its decisions with openpyxl as a person would, Marketing resubmits with a changed target and
reconcile runs again (the decisions carried); then the library and the command line read that master.
Every check reads the outputs back: the workbooks cell by cell, the drafts as a mail client would.
"""

from __future__ import annotations

import json
import shutil
from email import message_from_bytes, policy
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from openpyxl.utils import get_column_letter

from cascadebook import generate, load_key, load_spec, load_strategy
from cascadebook.cli import cli
from cascadebook.cycle.decisions import UNDECIDED, review_decisions
from cascadebook.master.decisions_read import ReviewDamaged
from conftest import SAMPLE_STRATEGY, clean_initiative, clean_kpi
from fill import fill_workbook
from review_typing import type_into_master

SPEC = load_spec()
MKT = [
    clean_initiative("CO1", "ABM campaign", 40, 150, budget=600000, headcount=3),
    clean_initiative("CO1", "Content programme", 1, 2, budget=100000),
    clean_initiative("CO1", "Webinars", 5, 9),
    clean_initiative("CO9", "Unknown objective", 1, 2, budget=1000),  # an error in the master
    clean_initiative("CO1", "Trade fairs", 2, 4, budget=50000),
]
SAL = [
    clean_initiative("CO1", "Solution selling", 0.15, 0.22, budget=180000, headcount=1),
    clean_initiative("CO5", "Ship from stock", 10, 9, headcount=1),
    clean_initiative("CO1", "Pricing", 1, 2, budget=20000),
    clean_initiative("CO1", "Channels", 1, 3, budget=5000),
]
OPS = [clean_initiative("CO5", "Logistics", 10, 8)]
DECIDED = {
    "MKT-I01": {
        "Decision": "Approved with changes",
        "Approved budget": 500000,
        "Comment": "trim events",
        "Reviewer": "CFO",
    },
    "MKT-I02": {"Decision": "Revise"},  # no comment
    "MKT-I03": {"Decision": "Approved"},  # its target changes after: not re-confirmed
    "MKT-I04": {"Decision": "Approved"},  # on a row with an error
    "MKT-I05": {"Decision": "Rejected", "Comment": "no fairs this year"},
    "SAL-I01": {"Decision": "Approved", "Approved budget": 200000, "Approved headcount": 2},  # above both requests
    "SAL-I02": {"Decision": "Approved with changes"},  # no amount
    "SAL-I03": {"Decision": "Aproved", "Approved budget": "50k"},  # typed by hand: not a label, not a number
}


def _fill(root: Path, code: str, initiatives: list[dict]) -> None:
    kpis = [clean_kpi(f"{code}-I{n:02d}", f"KPI {n}") for n in range(1, len(initiatives) + 1)]
    fill_workbook(
        root / "outbox" / f"FY2027_{code}.xlsx",
        root / "returned" / f"{code}.xlsx",
        rows={"initiatives": initiatives, "kpis": kpis},
    )


def _reconcile(root: Path) -> None:
    args = ["reconcile", str(root / "strategy.yaml"), str(root / "returned"), "-q", "-o", str(root / "master.xlsx")]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code in (0, 1), result.output


def _places(master: Path) -> tuple[dict[str, int], dict[str, str]]:
    """Initiative id -> its row on the master's Initiatives sheet, header -> its column letter."""
    ws = openpyxl.load_workbook(master, read_only=True)["Initiatives"]
    rows = list(ws.iter_rows(values_only=True))
    letters = {h: get_column_letter(c) for c, h in enumerate(rows[0], 1) if h}
    ident = rows[0].index("Initiative ID")
    return {r[ident]: n for n, r in enumerate(rows[1:], 2) if r[ident]}, letters


@pytest.fixture(scope="module")
def cycle(tmp_path_factory) -> dict[str, object]:
    root = tmp_path_factory.mktemp("decisions")
    shutil.copyfile(SAMPLE_STRATEGY, root / "strategy.yaml")
    strategy = load_strategy(root / "strategy.yaml")
    generate(strategy, root / "outbox", key=load_key(root / "strategy.yaml", create=True))
    (root / "returned").mkdir()
    for code, rows in (("MKT", MKT), ("SAL", SAL), ("OPS", OPS)):
        _fill(root, code, rows)
    master = root / "master.xlsx"
    _reconcile(root)
    type_into_master(master, DECIDED)
    _fill(root, "MKT", [*MKT[:2], {**MKT[2], "target": 10}, *MKT[3:]])  # Webinars' target raised after the decision
    _reconcile(root)  # the decisions carried, Webinars' flagged
    out = root / "out"
    run = CliRunner().invoke(cli, ["decisions", str(master), "-o", str(out)])
    rows, letters = _places(master)
    return {"root": root, "master": master, "strategy": strategy, "out": out, "run": run, "rows": rows, "col": letters}


def test_the_library_reads_each_departments_decisions_with_what_was_approved(cycle):
    review = review_decisions(cycle["master"], SPEC, cycle["strategy"])
    assert review.cycle == "FY2027" and [d.code for d in review.departments] == ["MKT", "OPS", "SAL"]
    mkt, ops, sal = review.departments
    assert mkt.name == "Marketing"
    got = {i.initiative_id: (i.label, i.meaning, i.approved_budget, i.approved_headcount) for i in mkt.initiatives}
    assert got == {
        "MKT-I01": ("Approved with changes", "approve_changed", 500000, 3),  # headcount blank: as requested
        "MKT-I02": ("Revise", "revise", None, None),
        "MKT-I03": ("Approved", "approve", None, None),  # nothing requested
        "MKT-I04": ("Approved", "approve", 1000, None),
        "MKT-I05": ("Rejected", "reject", 0, 0),
    }
    assert mkt.counts() == {
        "approve": 2, "approve_changed": 1, "revise": 1, "reject": 1, "unknown": 0, "decided": 5, "undecided": 0,
    }  # fmt: skip
    assert mkt.totals() == {
        "requested_budget": 751000,
        "approved_budget": 501000,
        "requested_headcount": 3,
        "approved_headcount": 3,
    }
    assert sal.counts()["decided"] == 2 and sal.counts()["unknown"] == 1 and sal.counts()["undecided"] == 2
    assert sal.totals()["approved_budget"] == 200000 and sal.totals()["approved_headcount"] == 3
    assert [(i.initiative_id, i.shown) for i in ops.initiatives] == [("OPS-I01", UNDECIDED)]
    assert review.exit_code == 1


def test_every_check_names_the_masters_cell(cycle):
    review = review_decisions(cycle["master"], SPEC, cycle["strategy"])
    row, col = cycle["rows"], cycle["col"]
    found = {(f.code, f.severity.value, f.file, f.sheet, f.cell) for f in review.findings}
    assert found == {
        ("revise-without-comment", "error", "master.xlsx", "Initiatives", f"{col['Comment']}{row['MKT-I02']}"),
        ("decision-unconfirmed", "warning", "master.xlsx", "Initiatives", f"{col['Review check']}{row['MKT-I03']}"),
        ("decision-on-error", "warning", "master.xlsx", "Initiatives", f"{col['Decision']}{row['MKT-I04']}"),
        (
            "approved-budget-above-request",
            "error",
            "master.xlsx",
            "Initiatives",
            f"{col['Approved budget']}{row['SAL-I01']}",
        ),
        (
            "approved-headcount-above-request",
            "error",
            "master.xlsx",
            "Initiatives",
            f"{col['Approved headcount']}{row['SAL-I01']}",
        ),
        (
            "approved-amount-missing",
            "warning",
            "master.xlsx",
            "Initiatives",
            f"{col['Approved budget']}{row['SAL-I02']}",
        ),
        ("decision-unknown", "error", "master.xlsx", "Initiatives", f"{col['Decision']}{row['SAL-I03']}"),
        ("approved-not-a-number", "error", "master.xlsx", "Initiatives", f"{col['Approved budget']}{row['SAL-I03']}"),
    }
    messages = {f.code: f.message for f in review.findings}
    assert "Target 9 -> 10" in messages["decision-unconfirmed"]
    assert "unknown-objective" in messages["decision-on-error"]
    assert "200,000 is above the 180,000 requested" in messages["approved-budget-above-request"]


def test_the_command_writes_a_workbook_per_department_and_exits_1_on_errors(cycle):
    run, out = cycle["run"], cycle["out"]
    assert run.exit_code == 1, run.output
    assert sorted(p.name for p in out.iterdir()) == [
        "FY2027_MKT decisions.eml",
        "FY2027_MKT_decisions.xlsx",
        "FY2027_OPS_decisions.xlsx",
        "FY2027_SAL decisions.eml",
        "FY2027_SAL_decisions.xlsx",
    ]
    assert "OPS: nothing decided yet, so no reply draft" in run.output
    assert (
        f"master.xlsx: Initiatives!{cycle['col']['Comment']}{cycle['rows']['MKT-I02']}: error revise-without-comment"
        in run.output
    )


def _sheet_rows(path: Path) -> list[tuple]:
    ws = openpyxl.load_workbook(path)["Decisions"]
    return [tuple(c.value for c in row) for row in ws.iter_rows(min_row=1, max_row=ws.max_row)]


def test_the_marketing_workbook_cell_by_cell(cycle):
    path = cycle["out"] / "FY2027_MKT_decisions.xlsx"
    book = openpyxl.load_workbook(path)
    ws = book["Decisions"]
    assert ws["A1"].value == "FY2027 decisions — Marketing (MKT)"
    assert ws["A2"].value == "5 of 5 initiative(s) decided: 2 Approved, 1 Approved with changes, 1 Revise, 1 Rejected."
    assert [c.value for c in ws[4]] == [
        "Initiative ID", "Objective", "Initiative", "Budget", "Approved budget", "Headcount", "Approved headcount",
        "Decision", "Reviewer", "Comment",
    ]  # fmt: skip
    body = [[c.value for c in ws[r]] for r in range(5, 11)]
    assert body == [
        ["MKT-I01", "CO1", "ABM campaign", 600000, 500000, 3, 3, "Approved with changes", "CFO", "trim events"],
        ["MKT-I02", "CO1", "Content programme", 100000, None, None, None, "Revise", None, None],
        ["MKT-I03", "CO1", "Webinars", None, None, None, None, "Approved", None, None],
        ["MKT-I04", "CO9", "Unknown objective", 1000, 1000, None, None, "Approved", None, None],
        ["MKT-I05", "CO1", "Trade fairs", 50000, 0, None, 0, "Rejected", None, "no fairs this year"],
        ["Total", None, None, 751000, 501000, 3, 3, None, None, None],
    ]
    assert ws["A6"].fill.fgColor.rgb == "FFFCE4D6" and ws["J6"].fill.fgColor.rgb == "FFFCE4D6"  # Revise
    assert ws["C9"].font.color.rgb == "FF7F7F7F" and ws["C9"].fill.fgColor.rgb == "FFEDEDED"  # Rejected, greyed
    assert ws["C5"].fill.fgColor.rgb in (None, "00000000")  # an approval is plain
    assert ws.print_title_rows == "$4:$4" and ws.page_setup.orientation == "landscape"
    assert ws.page_setup.paperSize == 9 and ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.freeze_panes == "A5" and ws.auto_filter.ref == "A4:J9"
    assert book.custom_doc_props["cascadebook.kind"].value == "decisions"


def test_an_undecided_department_and_an_unknown_label_read_as_such(cycle):
    ops = _sheet_rows(cycle["out"] / "FY2027_OPS_decisions.xlsx")
    assert (
        ops[1][0]
        == "0 of 1 initiative(s) decided: 0 Approved, 0 Approved with changes, 0 Revise, 0 Rejected; 1 not decided yet."
    )
    assert ops[4][:8] == ("OPS-I01", "CO5", "Logistics", None, None, None, None, UNDECIDED)
    sal = _sheet_rows(cycle["out"] / "FY2027_SAL_decisions.xlsx")
    assert [r[:8] for r in sal[4:9]] == [
        ("SAL-I01", "CO1", "Solution selling", 180000, 200000, 1, 2, "Approved"),
        ("SAL-I02", "CO5", "Ship from stock", None, None, 1, 1, "Approved with changes"),
        ("SAL-I03", "CO1", "Pricing", 20000, None, None, None, "Aproved"),
        ("SAL-I04", "CO1", "Channels", 5000, None, None, None, UNDECIDED),
        ("Total", None, None, 205000, 200000, 2, 3, None),
    ]
    ws = openpyxl.load_workbook(cycle["out"] / "FY2027_SAL_decisions.xlsx")["Decisions"]
    assert ws["H7"].fill.fgColor.rgb == "FFFFC7CE"  # not a label: marked
    assert ws["H8"].font.i  # not decided yet, in italics


def test_the_reply_draft_goes_to_the_head_with_the_workbook_and_the_counts(cycle):
    msg = message_from_bytes((cycle["out"] / "FY2027_MKT decisions.eml").read_bytes(), policy=policy.default)
    assert msg["To"] == "Priya Raman <priya.raman@northwind.example>"
    assert msg["Subject"] == "FY2027 goal plan for Marketing: finance's decisions (5 of 5 decided)"
    assert msg["X-Unsent"] == "1" and msg["X-Cascadebook"] == "decisions; cycle=FY2027; department=MKT"
    [attachment] = list(msg.iter_attachments())
    assert attachment.get_filename() == "FY2027_MKT_decisions.xlsx"
    assert attachment.get_content() == (cycle["out"] / "FY2027_MKT_decisions.xlsx").read_bytes()
    body = msg.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert (
        "5 of your 5\ninitiative(s) are decided. 3 approved (1 of them with changes),\n1 to revise, 1 rejected." in body
    )
    assert "Budget: USD 501,000 approved of USD 751,000 requested." in body
    assert (
        "- MKT-I01 ABM campaign: Approved with changes, budget USD 500,000 of USD 600,000, headcount 3 of 3 (trim events)"
        in body
    )
    sal = message_from_bytes((cycle["out"] / "FY2027_SAL decisions.eml").read_bytes(), policy=policy.default)
    assert "2 initiative(s) are not decided yet" in sal.get_body(("plain",)).get_content()


def test_json_for_automation(cycle, tmp_path):
    run = CliRunner().invoke(cli, ["decisions", str(cycle["master"]), "-o", str(tmp_path), "--json", "-"])
    assert run.exit_code == 1
    data = json.loads(run.stdout)
    assert data["cycle"] == "FY2027" and data["counts"] == {"error": 5, "warning": 3, "info": 0}
    mkt = next(d for d in data["departments"] if d["department"] == "MKT")
    assert mkt["counts"]["decided"] == 5 and mkt["totals"]["approved_budget"] == 501000
    assert mkt["decisions"][0] == {
        "initiative_id": "MKT-I01",
        "title": "ABM campaign",
        "objective": "CO1",
        "decision": "Approved with changes",
        "meaning": "approve_changed",
        "requested_budget": 600000,
        "approved_budget": 500000,
        "requested_headcount": 3,
        "approved_headcount": 3,
        "reviewer": "CFO",
        "comment": "trim events",
        "cell": f"Initiatives!A{cycle['rows']['MKT-I01']}",
    }
    assert mkt["workbook"].endswith("FY2027_MKT_decisions.xlsx") and mkt["draft"].endswith("FY2027_MKT decisions.eml")
    assert {f["code"] for f in mkt["findings"]} == {
        "revise-without-comment",
        "decision-unconfirmed",
        "decision-on-error",
    }
    ops = next(d for d in data["departments"] if d["department"] == "OPS")
    assert "draft" not in ops and ops["counts"]["undecided"] == 1


def test_without_a_strategy_the_workbooks_are_written_and_the_drafts_skipped(cycle, tmp_path):
    alone = tmp_path / "alone" / "master.xlsx"
    alone.parent.mkdir()
    shutil.copyfile(cycle["master"], alone)
    run = CliRunner().invoke(cli, ["decisions", str(alone), "-o", str(tmp_path / "out")])
    assert run.exit_code == 1, run.output
    assert "no strategy" in run.output
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "FY2027_MKT_decisions.xlsx",
        "FY2027_OPS_decisions.xlsx",
        "FY2027_SAL_decisions.xlsx",
    ]  # the cycle from the master's own properties
    assert openpyxl.load_workbook(tmp_path / "out" / "FY2027_MKT_decisions.xlsx")["Decisions"]["A1"].value == (
        "FY2027 decisions — MKT"
    )


def test_a_master_with_damaged_review_columns_is_refused_with_the_cell(cycle, tmp_path):
    damaged = tmp_path / "master.xlsx"
    shutil.copyfile(cycle["master"], damaged)
    book = openpyxl.load_workbook(damaged)
    decision = cycle["col"]["Decision"]
    book["Initiatives"][f"{decision}1"] = "Verdict"  # the header overtyped
    book.save(damaged)
    with pytest.raises(ReviewDamaged):
        review_decisions(damaged, SPEC)
    run = CliRunner().invoke(cli, ["decisions", str(damaged), "-o", str(tmp_path / "out")])
    assert run.exit_code == 2
    assert f"Initiatives!{decision}1: the review header 'Decision' is missing" in run.output
    assert len(run.output.strip().splitlines()) == 1 and not (tmp_path / "out").exists()
