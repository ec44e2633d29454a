"""The next round carries finance's decisions (issue 19): `generate --from MASTER` shows each department
what finance decided on its initiatives, and a template returned from that round reads as the plan.

One real cycle is built once (module scope): generate, fill as departments would, reconcile, type the
decisions into the master with openpyxl as finance would, generate the next round from it, and check
the template cell by cell; then a department head edits it (a Revise row changed), it is reconciled
again, and the master read back. One LibreOffice re-save of the prefilled template is read as well.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from cascadebook import generate, load_key, load_spec, load_strategy, reconcile
from cascadebook.cli import cli
from cascadebook.cycle.diff import DECIDED, diff_masters
from cascadebook.intake.reader import read_return
from cascadebook.master.decisions_read import ORPHANS_SHEET, read_decisions
from cascadebook.master.read import read_master
from cascadebook.model import Metadata
from cascadebook.signing import verify
from cascadebook.spec.roles import APPROVED_BUDGET, APPROVED_HEADCOUNT, DECISION, REVIEW_COMMENT, REVIEWER
from cascadebook.template.decisions import LEGEND, REJECTED_FILL, REVISE_FILL
from cascadebook.template.department import HEADER_ROW, INSTRUCTIONS
from conftest import SAMPLE_STRATEGY, clean_initiative, clean_kpi
from fill import fill_workbook
from libreoffice import convert
from review_typing import type_into_master

SPEC = load_spec()
REVIEW = SPEC.review
SHEET = SPEC.sheet("initiatives")
ABM = clean_initiative("CO1", "ABM campaign", 40, 150, budget=600000, headcount=3)
CONTENT = clean_initiative("CO1", "Content programme", 1, 2, budget=100000, headcount=2)
WEBINARS = clean_initiative("CO1", "Webinars", 5, 9, budget=50000)
EVENTS = clean_initiative("CO1", "Field events", 3, 6, budget=90000)
SELLING = clean_initiative("CO1", "Solution selling", 0.15, 0.22, budget=180000)
HEADERS = {role: REVIEW.header_of(role) for role in (DECISION, APPROVED_BUDGET, APPROVED_HEADCOUNT, REVIEWER)}
HEADERS[REVIEW_COMMENT] = REVIEW.header_of(REVIEW_COMMENT)


def _run(*args: object):
    return CliRunner().invoke(cli, [str(a) for a in args])


def _fill(source: Path, target: Path, initiatives: list[dict]) -> None:
    code = source.stem.split("_")[-1]
    kpis = [clean_kpi(f"{code}-I{n:02d}", f"KPI {n}") for n in range(1, len(initiatives) + 1)]
    fill_workbook(source, target, rows={"initiatives": initiatives, "kpis": kpis})


@pytest.fixture(scope="module")
def rounds(tmp_path_factory) -> dict[str, object]:
    root = tmp_path_factory.mktemp("next")
    shutil.copyfile(SAMPLE_STRATEGY, root / "strategy.yaml")
    strategy = load_strategy(root / "strategy.yaml")
    generate(strategy, root / "outbox", key=load_key(root / "strategy.yaml", create=True))
    (root / "returned").mkdir()
    _fill(root / "outbox" / "FY2027_MKT.xlsx", root / "returned" / "MKT.xlsx", [ABM, CONTENT, WEBINARS, EVENTS])
    _fill(root / "outbox" / "FY2027_SAL.xlsx", root / "returned" / "SAL.xlsx", [SELLING])
    master = root / "master.xlsx"
    done = _run("reconcile", root / "strategy.yaml", root / "returned", "-q", "-o", master)
    assert done.exit_code == 0, done.output
    d, b, h, c, who = (HEADERS[r] for r in (DECISION, APPROVED_BUDGET, APPROVED_HEADCOUNT, REVIEW_COMMENT, REVIEWER))
    type_into_master(
        master,
        {
            "MKT-I01": {d: "Approved with changes", b: 500000, h: 2, c: "trim events", who: "CFO"},
            "MKT-I02": {d: "Revise", c: "say which channels"},
            "MKT-I03": {d: "Rejected", c: "no budget for webinars"},
            "MKT-I04": {d: "Approved"},
        },
    )
    decided = root / "decided.xlsx"  # this master as finance left it, for the diff tests
    shutil.copyfile(master, decided)
    nxt = root / "next"
    made = _run("generate", root / "strategy.yaml", "-o", nxt, "--from", master, "-q")
    assert made.exit_code == 0, made.output
    template = nxt / "FY2027_MKT.xlsx"
    return {"root": root, "master": master, "decided": decided, "template": template, "sal": nxt / "FY2027_SAL.xlsx"}


def _display(ws) -> dict[str, int]:
    """Review header -> column of the decision columns, found on the header row right of the Check column."""
    row = [c.value for c in ws[HEADER_ROW]]
    check = row.index("Check")
    return {v: i + 1 for i, v in enumerate(row) if i > check and v in HEADERS.values()}


def _rows(ws) -> dict[str, int]:
    return {ws.cell(r, 1).value: r for r in range(HEADER_ROW + 1, HEADER_ROW + 30) if ws.cell(r, 1).value}


def test_the_template_shows_each_decision_beside_its_row_read_only(rounds):
    ws = openpyxl.load_workbook(rounds["template"])[SHEET.title]
    cols, rows = _display(ws), _rows(ws)
    row = [c.value for c in ws[HEADER_ROW]]
    check = row.index("Check") + 1
    assert list(cols) == [c.header for c in REVIEW.columns if c.role in HEADERS]  # every shown role, spec order
    first = min(cols.values())
    assert first > check + 1 and ws.cell(HEADER_ROW, first - 1).value is None  # a blank spacer before them
    assert ws.column_dimensions[openpyxl.utils.get_column_letter(first - 1)].width > 0
    budget, headcount = (
        SHEET.columns.index(SHEET.column("budget")) + 1,
        SHEET.columns.index(SHEET.column("headcount")) + 1,
    )

    def shown(ident: str, role: str):
        return ws.cell(rows[ident], cols[HEADERS[role]]).value

    # approved with changes: the typed amounts, beside the request still in the row's inputs
    assert ws.cell(rows["MKT-I01"], budget).value == 600000 and shown("MKT-I01", APPROVED_BUDGET) == 500000
    assert shown("MKT-I01", APPROVED_HEADCOUNT) == 2 and shown("MKT-I01", REVIEWER) == "CFO"
    assert shown("MKT-I01", DECISION) == "Approved with changes" and shown("MKT-I01", REVIEW_COMMENT) == "trim events"
    # approved as requested: the request
    assert shown("MKT-I04", DECISION) == "Approved" and shown("MKT-I04", APPROVED_BUDGET) == 90000
    # revise: nothing approved yet, the comment shown; rejected: 0
    assert shown("MKT-I02", APPROVED_BUDGET) is None and shown("MKT-I02", REVIEW_COMMENT) == "say which channels"
    assert shown("MKT-I03", APPROVED_BUDGET) == 0 and shown("MKT-I03", DECISION) == "Rejected"
    assert ws.cell(rows["MKT-I01"], headcount).value == 3
    for ident in rows:  # every decision cell is locked: finance's, not the department's
        for c in cols.values():
            assert ws.cell(rows[ident], c).protection.locked
    assert ws.protection.sheet and ws.cell(HEADER_ROW - 1, first).value  # a caption above them
    # sorting a department's rows carries their decisions with them
    assert openpyxl.utils.cell.range_boundaries(ws.auto_filter.ref)[2] == max(cols.values())


def test_a_rejected_row_is_struck_through_grey_and_locked_a_revise_row_amber_and_open(rounds):
    ws = openpyxl.load_workbook(rounds["template"])[SHEET.title]
    rows = _rows(ws)
    inputs = [i for i, col in enumerate(SHEET.columns, 1) if col.is_input]
    for c in inputs:
        rejected, revise, approved = (ws.cell(rows[i], c) for i in ("MKT-I03", "MKT-I02", "MKT-I01"))
        assert rejected.protection.locked and rejected.font.strike
        assert rejected.fill.fgColor.rgb.endswith(REJECTED_FILL.lstrip("#"))
        assert not revise.protection.locked and revise.fill.fgColor.rgb.endswith(REVISE_FILL.lstrip("#"))
        assert not approved.protection.locked and not approved.font.strike
    assert ws.cell(rows["MKT-I03"], 3).value == "Webinars"  # still there: the row is read as it is
    assert ws.cell(rows["MKT-I03"], 1).font.strike  # the id too
    comment = _display(ws)[HEADERS[REVIEW_COMMENT]]
    assert ws.cell(rows["MKT-I02"], comment).fill.fgColor.rgb.endswith(REVISE_FILL.lstrip("#"))


def test_the_instructions_say_what_the_marks_mean_and_the_metadata_names_the_columns(rounds):
    book = openpyxl.load_workbook(rounds["template"])
    assert LEGEND in [c.value for c in book[INSTRUCTIONS]["B"]]
    meta = Metadata.from_mapping({r[0]: r[1] for r in book["_cascadebook"].iter_rows(values_only=True)})
    assert meta.display_headers(SHEET.key) == tuple(_display(book[SHEET.title]))
    assert meta.signature
    # a department finance has not decided on gets the plain template: no legend, no columns, no marker
    plain = openpyxl.load_workbook(rounds["sal"])
    assert LEGEND not in [c.value for c in plain[INSTRUCTIONS]["B"]]
    assert _display(plain[SHEET.title]) == {}
    assert "decision_columns" not in {r[0] for r in plain["_cascadebook"].iter_rows(values_only=True)}


def test_a_returned_template_reads_clean_and_the_decisions_stay_in_the_master(rounds, tmp_path):
    root, master = rounds["root"], rounds["master"]
    ws = openpyxl.load_workbook(rounds["template"])[SHEET.title]
    rows = _rows(ws)
    target = SHEET.columns.index(SHEET.column("target")) + 1
    edited = root / "returned" / "MKT.xlsx"
    fill_workbook(
        rounds["template"], edited, {f"{SHEET.title}!{openpyxl.utils.get_column_letter(target)}{rows['MKT-I02']}": 3}
    )
    ret = read_return(edited, SPEC)
    codes = [f.code for f in ret.findings]
    assert not {"extra-column", "stray-cell", "decision-column-edited"} & set(codes), ret.findings
    by_id = {r.id: r for r in ret.records["initiatives"]}
    assert set(by_id) == {"MKT-I01", "MKT-I02", "MKT-I03", "MKT-I04"}  # the rejected row read too: nothing lost
    assert by_id["MKT-I02"].values["target"] == 3 and by_id["MKT-I01"].values["budget"] == 600000
    assert not set(by_id["MKT-I01"].values) & {c.key for c in REVIEW.columns}  # not read as plan values
    done = _run("reconcile", root / "strategy.yaml", root / "returned", "-q", "-o", master)
    assert done.exit_code == 0, done.output
    read = read_decisions(master, SPEC)
    mine = {d.initiative_id: d for d in read.decisions}
    assert {k: v.values[REVIEW.key_of(DECISION)] for k, v in mine.items()} == {
        "MKT-I01": "Approved with changes",
        "MKT-I02": "Revise",
        "MKT-I03": "Rejected",
        "MKT-I04": "Approved",
    }
    assert mine["MKT-I02"].values[REVIEW.key_of(REVIEW_COMMENT)] == "say which channels"
    findings = list(openpyxl.load_workbook(master, read_only=True)["Findings"].iter_rows(values_only=True))
    assert not [f for f in findings if "extra-column" in f or "stray-cell" in f]
    assert [f for f in findings if "decision-changed" in f]  # the revised target is flagged against the decision


@pytest.mark.libreoffice
def test_a_libreoffice_resave_of_the_prefilled_template_reads_clean(rounds, tmp_path):
    [again] = convert([rounds["template"]], "xlsx", tmp_path / "lo")
    strategy = rounds["root"] / "strategy.yaml"
    result = reconcile(load_strategy(strategy), [again], key=load_key(strategy), jobs=1)
    codes = {f.code for f in result.findings}
    assert not codes & {
        "extra-column",
        "stray-cell",
        "signature-mismatch",
        "signature-unverified",
        "decision-column-edited",
    }, codes
    assert [s.metadata.display_headers(SHEET.key) for s in result.sources] == [tuple(_display(_sheet(again)))]
    assert {r.id for r in result.initiatives} == {"MKT-I01", "MKT-I02", "MKT-I03", "MKT-I04"}


def _sheet(path: Path):
    return openpyxl.load_workbook(path)[SHEET.title]


# ---- diff: decision changes between two masters ---------------------------------------------------


@pytest.fixture(scope="module")
def redecided(rounds) -> Path:
    """The decided master with finance's second thoughts: MKT-I02 approved, MKT-I03's comment reworded,
    MKT-I04's decision cleared, SAL-I01 rejected, and an orphaned decision typed on the orphans sheet."""
    later = rounds["root"] / "redecided.xlsx"
    shutil.copyfile(rounds["decided"], later)
    d, c = HEADERS[DECISION], HEADERS[REVIEW_COMMENT]
    type_into_master(
        later,
        {
            "MKT-I02": {d: "Approved", c: None},
            "MKT-I03": {c: "not this year"},
            "MKT-I04": {d: None},
            "SAL-I01": {d: "Rejected"},
        },
    )
    book = openpyxl.load_workbook(later)
    ws = book[ORPHANS_SHEET]
    header = {cell.value: cell.column for cell in ws[1]}
    for name, value in {"Department": "OPS", SHEET.header_of("id"): "OPS-I07", d: "Revise", c: "gone?"}.items():
        ws.cell(2, header[name], value)
    book.save(later)
    return later


def test_diff_lists_each_decision_change_old_to_new(rounds, redecided):
    result = diff_masters(read_master(rounds["decided"], SPEC), read_master(redecided, SPEC), SPEC)
    got = {(c.department, c.id): (c.field, c.old, c.new, c.title) for c in result.changes if c.kind == DECIDED}
    d, c = HEADERS[DECISION], HEADERS[REVIEW_COMMENT]
    assert got == {
        ("MKT", "MKT-I02"): (f"{d}, {c}", "Revise · say which channels", "Approved · —", "Content programme"),
        ("MKT", "MKT-I03"): (c, "no budget for webinars", "not this year", "Webinars"),
        ("MKT", "MKT-I04"): (d, "Approved", None, "Field events"),
        ("SAL", "SAL-I01"): (d, None, "Rejected", "Solution selling"),
        ("OPS", "OPS-I07"): (f"{d}, {c}", "— · —", "Revise · gone?", ""),  # an orphan: decided in the new only
    }
    assert result.counts()[DECIDED] == 5
    same = diff_masters(read_master(redecided, SPEC), read_master(redecided, SPEC), SPEC)
    assert not same  # nothing changed: no decision change either


def test_diff_command_shows_decision_changes_in_the_table_json_and_workbook(rounds, redecided, tmp_path):
    book = tmp_path / "diff.xlsx"
    shown = _run("diff", rounds["decided"], redecided, "-o", book)
    assert shown.exit_code == 0, shown.output
    line = next(x for x in shown.output.splitlines() if "SAL-I01" in x)
    assert "decision" in line and "Rejected" in line
    assert "5 decision" in shown.output
    data = json.loads(_run("diff", rounds["decided"], redecided, "--json", "-").output)
    assert {
        "sheet": "initiatives",
        "kind": "decision",
        "id": "MKT-I03",
        "department": "MKT",
        "title": "Webinars",
        "field": HEADERS[REVIEW_COMMENT],
        "old": "no budget for webinars",
        "new": "not this year",
    } in data["changes"]
    rows = list(openpyxl.load_workbook(book, read_only=True)["Changes"].iter_rows(values_only=True))
    assert (
        "Initiatives",
        "decision",
        "SAL-I01",
        "SAL",
        "Solution selling",
        HEADERS[DECISION],
        None,
        "Rejected",
    ) in rows


def test_diff_refuses_a_master_whose_review_columns_are_damaged(rounds, tmp_path):
    broken = tmp_path / "broken.xlsx"
    book = openpyxl.load_workbook(rounds["decided"])
    ws = book[SHEET.title]
    for cell in ws[1]:
        if cell.value == HEADERS[DECISION]:
            cell.value = "Verdict"
    book.save(broken)
    done = _run("diff", rounds["decided"], broken)
    assert done.exit_code == 2 and "review columns are damaged" in done.output
    [error] = [x for x in done.output.splitlines() if x.startswith("Error:")]  # one line, naming the cell
    assert f"{SHEET.title}!" in error and "Traceback" not in done.output


def test_generate_from_a_damaged_master_is_a_one_line_error(rounds, tmp_path):
    broken = tmp_path / "broken.xlsx"
    book = openpyxl.load_workbook(rounds["decided"])
    for cell in book[SHEET.title][1]:
        if cell.value == HEADERS[APPROVED_BUDGET]:
            cell.value = None
    book.save(broken)
    done = _run("generate", rounds["root"] / "strategy.yaml", "-o", tmp_path / "out", "--from", broken, "-q")
    assert done.exit_code == 2 and "review columns are damaged" in done.output and "Traceback" not in done.output
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


# ---- typed over finance's decisions: decision-column-edited -----------------------------------------


def _edited(ret) -> dict[str, str]:
    return {f.cell: f.message for f in ret.findings if f.code == "decision-column-edited"}


def test_an_untouched_template_raises_no_decision_column_finding_and_signs_what_it_showed(rounds):
    ret = read_return(rounds["template"], SPEC)
    assert _edited(ret) == {} and not ret.identity_problem
    assert ret.metadata.decision_values.count("=") == 4  # one entry per decided row, signed
    assert load_key(rounds["root"] / "strategy.yaml") and verify(
        ret.metadata, load_key(rounds["root"] / "strategy.yaml")
    )


def test_a_value_typed_into_the_decision_columns_is_a_warning_at_its_cell_and_the_plan_reads_as_before(
    rounds, tmp_path
):
    ws = _sheet(rounds["template"])
    cols, rows = _display(ws), _rows(ws)
    decision = f"{openpyxl.utils.get_column_letter(cols[HEADERS[DECISION]])}{rows['MKT-I03']}"
    spare = max(rows.values()) + 1  # the first row finance did not decide on
    comment = f"{openpyxl.utils.get_column_letter(cols[HEADERS[REVIEW_COMMENT]])}{spare}"
    edited = tmp_path / "edited.xlsx"
    fill_workbook(
        rounds["template"], edited, {f"{SHEET.title}!{decision}": "Approved", f"{SHEET.title}!{comment}": "we disagree"}
    )
    ret = read_return(edited, SPEC)
    found = _edited(ret)
    assert set(found) == {decision, comment}, ret.findings
    assert "'Approved'" in found[decision] and "read-only" in found[decision] and "not read" in found[decision]
    assert "'we disagree'" in found[comment]
    [f] = [f for f in ret.findings if f.cell == decision]
    assert (f.severity.value, f.sheet, f.file) == ("warning", SHEET.title, edited.name) and "finance" in f.hint
    plain = read_return(rounds["template"], SPEC)  # the plan values: as the untouched template's
    assert [r.values for r in ret.records["initiatives"]] == [r.values for r in plain.records["initiatives"]]


def test_a_long_signed_value_is_split_across_document_properties_and_joined_again():
    meta = Metadata(
        "2", "FY2027", "MKT", "department", "1", "f", "t", decision_columns="initiatives:D", decision_values="x" * 600
    )
    pairs = meta.property_pairs()
    assert max(len(v) for _, v in pairs) <= 255 and {"decision_values~2", "decision_values~3"} <= {n for n, _ in pairs}
    assert Metadata.from_mapping(dict(pairs)) == meta
    assert Metadata.from_mapping(dict(meta.as_pairs())) == meta  # the metadata sheet keeps it whole
