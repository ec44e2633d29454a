"""Finance's decisions survive a re-run of reconcile (issue 19): typed into the master as a person would,
carried to the same initiatives, flagged when the initiative changed, kept when it vanished.

One cycle is built once (module scope) and reconciled four times through the command line: the
decisions are typed with openpyxl into the saved master between runs; every check reads the masters
back cell by cell.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from cascadebook import generate, load_key, load_spec, load_strategy
from cascadebook.cli import cli
from cascadebook.master.decisions_read import ORPHANS_SHEET, ReviewDamaged, read_decisions
from cascadebook.spec.roles import APPROVE, REJECT, REVISE
from cascadebook.spec.schema import SpecError, parse_spec, read_yaml
from conftest import SAMPLE_STRATEGY, clean_initiative, clean_kpi
from fill import fill_workbook
from review_typing import type_into_master

SPEC = load_spec()
REVIEW = SPEC.review
ABM = clean_initiative("CO1", "ABM campaign", 40, 150, budget=600000, headcount=3)
CONTENT = clean_initiative("CO1", "Content programme", 1, 2, budget=100000)
WEBINARS = clean_initiative("CO1", "Webinars", 5, 9)
SELLING = clean_initiative("CO1", "Solution selling", 0.15, 0.22, budget=180000)
STOCK = clean_initiative("CO5", "Ship from stock", 10, 9, headcount=1)
LOGISTICS = clean_initiative("CO5", "Logistics", 10, 8)


def _fill(cycle: Path, code: str, initiatives: list[dict]) -> None:
    kpis = [clean_kpi(f"{code}-I{n:02d}", f"KPI {n}") for n in range(1, len(initiatives) + 1)]
    fill_workbook(
        cycle / "outbox" / f"FY2027_{code}.xlsx",
        cycle / "returned" / f"{code}.xlsx",
        rows={"initiatives": initiatives, "kpis": kpis},
    )


def _reconcile(cycle: Path, *extra: str):
    args = ["reconcile", str(cycle / "strategy.yaml"), str(cycle / "returned"), "-q", *extra]
    return CliRunner().invoke(cli, args)


def _table(path: Path, title: str) -> dict[tuple[str, str], dict[str, object]]:
    """(department, id) -> header -> value of a master table, read back with openpyxl."""
    ws = openpyxl.load_workbook(path, read_only=True)[title]
    rows = list(ws.iter_rows(values_only=True))
    header = list(rows[0])
    return {(r[0], r[header.index("Initiative ID")]): dict(zip(header, r)) for r in rows[1:] if r[0]}


@pytest.fixture(scope="module")
def cycle(tmp_path_factory) -> dict[str, object]:
    """Four runs: (1) MKT and SAL return; finance decides on four initiatives; (2) MKT raises a target and
    drops Webinars, OPS returns late; (3) the same inputs again; (4) MKT brings Webinars back."""
    root = tmp_path_factory.mktemp("review")
    shutil.copyfile(SAMPLE_STRATEGY, root / "strategy.yaml")
    strategy = load_strategy(root / "strategy.yaml")
    generate(strategy, root / "outbox", key=load_key(root / "strategy.yaml", create=True))
    (root / "returned").mkdir()
    master = root / "master.xlsx"
    _fill(root, "MKT", [ABM, CONTENT, WEBINARS])
    _fill(root, "SAL", [SELLING, STOCK])
    first = _reconcile(root, "-o", str(master))
    assert first.exit_code == 0, first.output
    out: dict[str, object] = {"root": root, "master": master, "first": _table(master, "Initiatives")}
    out["first_book"] = openpyxl.load_workbook(master)
    type_into_master(
        master,
        {
            "MKT-I01": {"Decision": "Approved with changes", "Approved budget": 500000, "Comment": "trim events"},
            "MKT-I02": {"Decision": "Revise", "Comment": "say which channels"},
            "MKT-I03": {"Decision": "Approved", "Reviewer": "CFO"},
            "SAL-I02": {"Decision": "Rejected", "Comment": "no stock budget"},
        },
    )
    out["typed"] = master.read_bytes()
    _fill(root, "MKT", [{**ABM, "target": 180}, CONTENT])  # Webinars (row 3) gone, ABM's target raised
    _fill(root, "OPS", [LOGISTICS])  # a late return
    second = _reconcile(root, "-o", str(master), "-v")
    out["second_run"] = second
    out["second"] = _table(master, "Initiatives")
    out["second_orphans"] = _table(master, ORPHANS_SHEET)
    out["previous"] = (root / "master.previous.xlsx").read_bytes()
    out["second_findings"] = list(
        openpyxl.load_workbook(master, read_only=True)["Findings"].iter_rows(values_only=True)
    )
    third = _reconcile(root, "-o", str(master))
    out["third_run"] = third
    out["third"] = _table(master, "Initiatives")
    out["third_orphans"] = _table(master, ORPHANS_SHEET)
    _fill(root, "MKT", [{**ABM, "target": 180}, CONTENT, WEBINARS])
    fourth = _reconcile(root, "-o", str(master))
    out["fourth_run"] = fourth
    out["fourth"] = _table(master, "Initiatives")
    out["fourth_orphans"] = _table(master, ORPHANS_SHEET)
    return out


def test_the_master_has_review_columns_after_the_plan_unlocked_with_a_dropdown_and_every_sheet_protected(cycle):
    book = cycle["first_book"]
    ws = book["Initiatives"]
    header = [c.value for c in ws[1]]
    plan = [c.header for c in SPEC.sheet("initiatives").columns]
    review = [c.header for c in REVIEW.columns]
    assert header == ["Department", *plan, *review, "Source file", "Source row"]
    decision = header.index(REVIEW.header_of("decision")) + 1
    shade = ws.cell(2, decision).fill.fgColor.rgb
    for col in REVIEW.columns:  # typed (or the check cleared) by finance: unlocked, shaded; snapshots: locked
        cell = ws.cell(2, header.index(col.header) + 1)
        assert cell.protection.locked is bool(col.records), col.key
        assert (cell.fill.fgColor.rgb == shade) is not bool(col.records), col.key
    assert ws.cell(2, 2).protection.locked  # the plan itself is locked
    dropdowns = [dv for dv in ws.data_validations.dataValidation if dv.type == "list"]
    assert len(dropdowns) == 1
    letter = openpyxl.utils.get_column_letter(decision)
    assert str(dropdowns[0].sqref) == f"{letter}2:{letter}6"  # the five initiatives' rows
    assert dropdowns[0].formula1 == '"Approved,Approved with changes,Revise,Rejected"'
    for sheet in book.worksheets:  # against accidental edits only: no password, sorting and filtering allowed
        p = sheet.protection
        assert p.sheet and not p.password, sheet.title
        assert not p.sort and not p.autoFilter and not p.formatColumns and not p.formatRows, sheet.title
        assert p.insertRows and p.deleteRows, sheet.title  # still protected
    assert [c.value for c in book[ORPHANS_SHEET][1]][:3] == ["Department", "Initiative ID", "Decision"]  # empty


def test_decisions_stay_on_their_initiatives_after_a_late_return_and_a_changed_plan(cycle):
    assert cycle["second_run"].exit_code == 0, cycle["second_run"].output
    rows = cycle["second"]
    abm, content = rows[("MKT", "MKT-I01")], rows[("MKT", "MKT-I02")]
    assert (abm["Decision"], abm["Approved budget"], abm["Comment"]) == ("Approved with changes", 500000, "trim events")
    assert abm["Target"] == 180 and abm["Reviewed target"] == 150 and abm["Reviewed title"] == "ABM campaign"
    assert abm["Review check"] == "changed since reviewed: Target 150 -> 180"
    assert (content["Decision"], content["Comment"], content["Review check"]) == ("Revise", "say which channels", None)
    assert (content["Reviewed title"], content["Reviewed budget"]) == ("Content programme", 100000)
    stock = rows[("SAL", "SAL-I02")]
    assert (stock["Decision"], stock["Comment"], stock["Reviewed objective"]) == ("Rejected", "no stock budget", "CO5")
    assert rows[("OPS", "OPS-I01")]["Decision"] is None  # the late return: undecided
    assert rows[("SAL", "SAL-I01")]["Decision"] is None and rows[("SAL", "SAL-I01")]["Reviewed title"] is None
    assert ("MKT", "MKT-I03") not in rows


def test_a_changed_initiative_is_a_finding_at_its_review_check_cell(cycle):
    findings = {(r[1], r[2]): r for r in cycle["second_findings"][1:]}
    changed = findings[("decision-changed", "MKT")]
    header = [c.header for c in REVIEW.columns]
    column = openpyxl.utils.get_column_letter(2 + len(SPEC.sheet("initiatives").columns) + header.index("Review check"))
    rows = list(cycle["second"])
    assert changed[0] == "warning" and changed[3] == "master.xlsx" and changed[4] == "Initiatives"
    assert changed[5] == f"{column}{rows.index(('MKT', 'MKT-I01')) + 2}"
    assert "Target 150 -> 180" in changed[6] and "Approved with changes" in changed[6]
    assert "warning decision-changed" in cycle["second_run"].output


def test_a_vanished_initiative_keeps_its_decision_on_the_orphans_sheet_run_after_run(cycle):
    for orphans in (cycle["second_orphans"], cycle["third_orphans"]):
        assert list(orphans) == [("MKT", "MKT-I03")]
        webinars = orphans[("MKT", "MKT-I03")]
        assert (webinars["Decision"], webinars["Reviewer"], webinars["Reviewed title"]) == (
            "Approved",
            "CFO",
            "Webinars",
        )
        assert webinars["Reviewed target"] == 9 and webinars["Why"] == "the initiative is no longer in MKT's plan"
    findings = {(r[1], r[2]): r for r in cycle["second_findings"][1:]}
    orphaned = findings[("decision-orphaned", "MKT")]
    assert (orphaned[4], orphaned[5]) == (ORPHANS_SHEET, "C2") and "MKT-I03" in orphaned[6]
    # the third run changes nothing: the decisions and their snapshots are as the second left them
    assert cycle["third_run"].exit_code == 0 and cycle["third"] == cycle["second"]


def test_a_returning_initiative_gets_its_decision_back(cycle):
    assert cycle["fourth_orphans"] == {}
    webinars = cycle["fourth"][("MKT", "MKT-I03")]
    assert (webinars["Decision"], webinars["Reviewer"], webinars["Review check"]) == ("Approved", "CFO", None)
    assert cycle["fourth"][("MKT", "MKT-I01")]["Decision"] == "Approved with changes"


def test_the_master_replaced_is_kept_beside_the_new_one(cycle):
    assert cycle["previous"] == cycle["typed"]  # the second run kept the master finance typed into


def test_decisions_read_back_with_their_meaning_and_place(cycle):
    read = read_decisions(cycle["master"], SPEC)
    by_id = {d.initiative_id: d for d in read.decisions}
    assert set(by_id) == {"MKT-I01", "MKT-I02", "MKT-I03", "SAL-I02"} and read.orphans == ()
    assert by_id["MKT-I02"].meaning == REVISE and by_id["SAL-I02"].meaning == REJECT
    assert by_id["MKT-I03"].meaning == APPROVE and by_id["MKT-I03"].department == "MKT"
    assert by_id["MKT-I01"].reviewed["target"] == 150 and by_id["MKT-I01"].values["approved_budget"] == 500000
    rows = list(cycle["fourth"])
    letter = openpyxl.utils.get_column_letter(2 + len(SPEC.sheet("initiatives").columns))
    assert by_id["SAL-I02"].where == f"Initiatives!{letter}{rows.index(('SAL', 'SAL-I02')) + 2}"


def _damaged(source: Path, target: Path, header: str, new: str | None) -> Path:
    book = openpyxl.load_workbook(source)
    ws = book["Initiatives"]
    cell = next(c for c in ws[1] if c.value == header)
    if new is None:  # a copy of the header further right
        ws.cell(1, ws.max_column + 1, header)
    else:
        cell.value = new
    book.save(target)
    return target


def test_a_master_with_damaged_review_columns_is_refused_and_left_as_it_was(cycle, tmp_path):
    master = _damaged(cycle["master"], tmp_path / "master.xlsx", "Decision", "Verdict")
    before = master.read_bytes()
    run = _reconcile(cycle["root"], "-o", str(master))
    assert run.exit_code == 2
    column = openpyxl.utils.get_column_letter(2 + len(SPEC.sheet("initiatives").columns))
    assert f"Initiatives!{column}1: the review header 'Decision' is missing" in run.output
    assert len(run.output.strip().splitlines()) == 1
    assert master.read_bytes() == before and not (tmp_path / "master.previous.xlsx").exists()
    twice = _damaged(cycle["master"], tmp_path / "twice.xlsx", "Comment", None)
    with pytest.raises(ReviewDamaged, match=r"Initiatives!\w+1 and Initiatives!\w+1: the review header 'Comment'"):
        read_decisions(twice, SPEC)
    assert read_decisions(twice, SPEC, strict=False).damage  # the decisions command may list them instead
    book = openpyxl.load_workbook(cycle["master"])
    book[ORPHANS_SHEET].title = "Orphans"
    book.save(tmp_path / "renamed.xlsx")
    with pytest.raises(ReviewDamaged, match="the 'Decisions without an initiative' sheet is missing"):
        read_decisions(tmp_path / "renamed.xlsx", SPEC)


def test_review_from_an_old_master_and_a_master_from_before_review_columns(cycle, tmp_path):
    old = tmp_path / "old.xlsx"
    old.write_bytes(cycle["typed"])
    run = _reconcile(cycle["root"], "-o", str(tmp_path / "new.xlsx"), "--review-from", str(old))
    assert run.exit_code == 0, run.output
    rows = _table(tmp_path / "new.xlsx", "Initiatives")
    assert rows[("SAL", "SAL-I02")]["Decision"] == "Rejected" and not (tmp_path / "new.previous.xlsx").exists()
    # a master written before review columns existed: no decisions, no error
    book = openpyxl.load_workbook(old)
    ws = book["Initiatives"]
    first = 2 + len(SPEC.sheet("initiatives").columns)
    ws.delete_cols(first, len(REVIEW.columns))
    del book[ORPHANS_SHEET]
    book.save(tmp_path / "before.xlsx")
    read = read_decisions(tmp_path / "before.xlsx", SPEC)
    assert (read.decisions, read.orphans, read.has_review) == ((), (), False)


# ---- the spec's review section ----------------------------------------------------------------------

BUNDLED = Path(__file__).resolve().parents[1] / "workbook_templates" / "department.yaml"


def _spec_with(review: object) -> dict:
    data = read_yaml(BUNDLED)
    assert isinstance(data, dict)
    if review is None:
        data.pop("review")
    else:
        data["review"] = review
    return data


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda r: r["decisions"].update({"Maybe": "perhaps"}), "review.decisions.Maybe: unknown meaning 'perhaps'"),
        (lambda r: r["columns"][0].update(role="", type="text"), "review.columns: role 'decision' is required"),
        (lambda r: r.update({"colums": []}), "review.colums: unknown key 'colums' (did you mean 'columns'?)"),
        (lambda r: r["columns"][1].update(role="budget"), "has role 'budget', not a role of the review columns"),
        (lambda r: r["columns"][5].update(records="titel"), "records 'titel', which is not a role of the initiatives"),
        (lambda r: r["columns"][4].update(header="Notes"), "has the header 'Notes', which the master's Initiatives"),
    ],
)
def test_a_bad_review_section_is_a_spec_error(change, message):
    data = _spec_with(None)
    review = read_yaml(BUNDLED)["review"]  # type: ignore[index]
    change(review)
    data["review"] = review
    with pytest.raises(SpecError, match=message.replace("(", r"\(").replace(")", r"\)").replace("?", r"\?")):
        parse_spec(data, "custom.yaml")


def test_a_spec_without_review_gets_the_bundled_one_and_review_does_not_change_the_fingerprint():
    without = parse_spec(_spec_with(None), "custom.yaml")
    assert without.review == SPEC.review and without.review.by_role("decision").choices == REVIEW.labels
    renamed = read_yaml(BUNDLED)["review"]  # type: ignore[index]
    renamed["columns"][4]["header"] = "Finance comment"
    renamed["decisions"] = {"Go": "approve", "No go": "reject"}
    other = parse_spec(_spec_with(renamed), "custom.yaml")
    assert other.fingerprint() == without.fingerprint() == SPEC.fingerprint()
    assert other.review.header_of("review_comment") == "Finance comment" and other.review.meaning("no GO") == REJECT
    assert other.review.label_of("revise") == "" and other.review.meaning("Approved") == ""
