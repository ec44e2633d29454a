"""Next cycle: `generate --from MASTER` prefills the templates, and `diff` says what changed between masters."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from cascadebook import generate, load_key, load_spec, load_strategy, reconcile, write_master
from cascadebook.cli import cli
from cascadebook.cycle.diff import diff_masters
from cascadebook.master.read import read_master
from cascadebook.xlsx.addresses import column_letter
from conftest import SAMPLE_STRATEGY, clean_kpi
from fill import fill_workbook


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def plan(objective, title, baseline, target, owner="Priya Raman", **extra):
    return dict(
        objective_id=objective,
        title=title,
        expected_impact=f"{title}: result",
        unit="count",
        baseline=baseline,
        target=target,
        due_period="Q4",
        owner=owner,
        **extra,
    )


@pytest.fixture(scope="module")
def masters(tmp_path_factory):
    """FY2027's master, FY2028's templates made from it, edited by two departments, and FY2028's master."""
    root = tmp_path_factory.mktemp("cycles")
    old_strategy = root / "fy27" / "strategy.yaml"
    old_strategy.parent.mkdir()
    shutil.copyfile(SAMPLE_STRATEGY, old_strategy)
    strategy = load_strategy(old_strategy)
    key = load_key(old_strategy, create=True)
    templates = {p.stem.split("_")[-1]: p for p in generate(strategy, root / "fy27" / "outbox", key=key)}
    returned = root / "fy27" / "returned"
    fill_workbook(
        templates["MKT"],
        returned / "MKT.xlsx",
        rows={
            "initiatives": [
                plan("CO1", "Account-based campaign", 40, 150, contribution_weight="60%"),
                plan("CO3", "Thought leadership", 0.48, 0.6, owner="Jonah Avery"),
            ],
            "kpis": [clean_kpi("MKT-I01", "Qualified leads"), clean_kpi("MKT-I02", "Articles")],
        },
    )
    fill_workbook(
        templates["SAL"],
        returned / "SAL.xlsx",
        rows={
            "initiatives": [
                plan("CO1", "Solution selling", 0.15, 0.22, owner="Marcus Bell"),
                plan("CO5", "Faster quotes", 10, 8, owner="Marcus Bell"),
            ],
            "kpis": [clean_kpi("SAL-I01", "Close rate"), clean_kpi("SAL-I02", "Quote days")],
        },
    )
    old_master = write_master(reconcile(strategy, [returned], key=key, jobs=1), root / "fy27" / "master.xlsx")

    new_strategy = root / "fy28" / "strategy.yaml"
    new_strategy.parent.mkdir()
    new_strategy.write_text(SAMPLE_STRATEGY.read_text().replace("cycle: FY2027", "cycle: FY2028"))
    made = run("generate", new_strategy, "-o", root / "fy28" / "outbox", "--from", old_master)
    assert made.exit_code == 0, made.output
    outbox = root / "fy28" / "outbox"

    spec = load_spec()
    col = {c.key: column_letter(i) for i, c in enumerate(spec.sheet("initiatives").columns, 1)}
    new_returned = root / "fy28" / "returned"
    fill_workbook(
        outbox / "FY2028_MKT.xlsx",
        new_returned / "MKT.xlsx",
        cells={
            f"Initiatives!{col['target']}5": 180,  # retargeted
            f"Initiatives!{col['owner']}6": "Ana Ruiz",  # re-owned
        },
        rows={
            "initiatives": [{}, {}, plan("CO6", "Customer advisory board", 31, 40)],  # a new MKT-I03
            "kpis": [{}, {}, clean_kpi("MKT-I03", "Board meetings")],
        },
    )
    sales = fill_workbook(
        outbox / "FY2028_SAL.xlsx",
        new_returned / "SAL.xlsx",
        cells={
            f"Initiatives!{col['objective_id']}5": "CO2",  # re-aligned: CO1 loses Sales, CO2 gains it
        },
    )
    book = openpyxl.load_workbook(sales)  # Sales deletes its second initiative and its KPI: removed
    for title, sheet in (("Initiatives", spec.sheet("initiatives")), ("KPIs", spec.sheet("kpis"))):
        for i, c in enumerate(sheet.columns, 1):
            if c.is_input:
                book[title].cell(6, i).value = None
    book.save(sales)
    new = load_strategy(new_strategy)
    result = reconcile(new, [new_returned], key=load_key(new_strategy), jobs=1)
    new_master = write_master(result, root / "fy28" / "master.xlsx")
    return dict(root=root, old=old_master, new=new_master, outbox=outbox, made=made, result=result, col=col)


def test_generate_from_master_prefills_each_department(masters):
    assert "6 template(s) for FY2028" in masters["made"].output
    col = masters["col"]
    book = openpyxl.load_workbook(masters["outbox"] / "FY2028_MKT.xlsx")
    ws = book["Initiatives"]
    assert [
        ws[f"{col[k]}5"].value
        for k in ("id", "objective_id", "title", "baseline", "target", "owner", "contribution_weight")
    ] == ["MKT-I01", "CO1", "Account-based campaign", 40, 150, "Priya Raman", 0.6]
    assert [ws[f"{col[k]}6"].value for k in ("id", "objective_id", "owner")] == ["MKT-I02", "CO3", "Jonah Avery"]
    assert ws["A7"].value == "MKT-I03" and ws[f"{col['title']}7"].value is None  # fresh ids continue
    assert not ws[f"{col['title']}5"].protection.locked  # prefilled values stay editable
    assert ws["A5"].protection.locked
    kpis = book["KPIs"]
    assert (kpis["A5"].value, kpis["B5"].value, kpis["F5"].value) == ("MKT-K01", "MKT-I01", "Qualified leads")
    hr = openpyxl.load_workbook(masters["outbox"] / "FY2028_HR.xlsx")["Initiatives"]
    assert (hr["A5"].value, hr[f"{col['title']}5"].value) == ("HR-I01", None)  # no plan last cycle: blank
    # Returned as prefilled, a plan reconciles without errors under the new cycle.
    assert not [f for f in masters["result"].findings if f.severity.value == "error"]


def test_diff_lists_every_change(masters):
    diff = diff_masters(read_master(masters["old"]), read_master(masters["new"]))
    got = [(c.sheet, c.kind, c.id, c.field, c.old, c.new) for c in diff.changes]
    assert got == [
        ("initiatives", "added", "MKT-I03", "", None, None),
        ("initiatives", "removed", "SAL-I02", "", None, None),
        ("initiatives", "retargeted", "MKT-I01", "Target", 150, 180),
        ("initiatives", "re-owned", "MKT-I02", "Owner", "Jonah Avery", "Ana Ruiz"),
        ("initiatives", "re-aligned", "SAL-I01", "Objective", "CO1", "CO2"),
        ("kpis", "added", "MKT-K03", "", None, None),
        ("kpis", "removed", "SAL-K02", "", None, None),
    ]
    coverage = {c.objective: (c.old_departments, c.new_departments, c.summary) for c in diff.coverage}
    assert coverage == {
        "CO1": (("MKT", "SAL"), ("MKT",), "-SAL"),
        "CO2": ((), ("SAL",), "newly covered"),
        "CO5": (("SAL",), (), "now uncovered"),
        "CO6": ((), ("MKT",), "newly covered"),
    }
    assert diff.counts() == {
        "added": 2,
        "removed": 2,
        "retargeted": 1,
        "re-owned": 1,
        "re-aligned": 1,
        "decision": 0,
        "coverage": 4,
    }
    same = diff_masters(read_master(masters["old"]), read_master(masters["old"]))
    assert not same and not same.coverage


def test_diff_command_table_json_and_workbook(masters, tmp_path):
    shown = run("diff", masters["old"], masters["new"])
    assert shown.exit_code == 0, shown.output
    assert "retargeted" in shown.output and "MKT-I01" in shown.output and "now uncovered" in shown.output
    assert "2 added, 2 removed, 1 retargeted, 1 re-owned, 1 re-aligned, 4 coverage" in shown.output

    as_json = run("diff", masters["old"], masters["new"], "--json", "-o", tmp_path / "diff.xlsx")
    assert as_json.exit_code == 0
    data = json.loads(as_json.stdout)
    assert data["counts"]["added"] == 2
    assert {
        "sheet": "initiatives",
        "kind": "retargeted",
        "id": "MKT-I01",
        "department": "MKT",
        "title": "Account-based campaign",
        "field": "Target",
        "old": 150.0,
        "new": 180.0,
    } in data["changes"]

    book = openpyxl.load_workbook(tmp_path / "diff.xlsx")
    assert book.sheetnames == ["Changes", "Coverage"]
    rows = list(book["Changes"].iter_rows(values_only=True))
    assert rows[0] == ("Sheet", "Change", "ID", "Department", "Title", "Field", "Old", "New")
    assert ("Initiatives", "retargeted", "MKT-I01", "MKT", "Account-based campaign", "Target", 150, 180) in rows
    coverage = list(book["Coverage"].iter_rows(values_only=True))
    assert ("CO1", "MKT, SAL", "MKT", 2, 1, "-SAL") in coverage

    unchanged = run("diff", masters["old"], masters["old"])
    assert "No changes" in unchanged.output
    broken = run("diff", masters["old"], Path(__file__))
    assert broken.exit_code == 2 and "cannot read" in broken.output


def test_a_diff_past_excels_row_limit_goes_on_in_a_second_sheet(masters, tmp_path, monkeypatch):
    from cascadebook.cycle.diff import write_diff_workbook
    from cascadebook.xlsx import writer as xlsx

    diff = diff_masters(read_master(masters["old"]), read_master(masters["new"]))
    monkeypatch.setattr(xlsx, "EXCEL_MAX_ROWS", 4)  # 3 changes per sheet: 7 changes, 4 coverage lines
    book = openpyxl.load_workbook(write_diff_workbook(diff, tmp_path / "diff.xlsx"))
    assert book.sheetnames == ["Changes", "Changes (2)", "Changes (3)", "Coverage", "Coverage (2)"]
    rows = [
        row
        for name in book.sheetnames
        if name.startswith("Changes")
        for row in list(book[name].iter_rows(values_only=True))[1:]
    ]
    assert [(r[2], r[1]) for r in rows] == [(c.id, c.kind) for c in diff.changes]
    assert all(next(book[n].iter_rows(values_only=True))[0] in ("Sheet", "Objective") for n in book.sheetnames)
