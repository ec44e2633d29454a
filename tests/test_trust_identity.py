"""Issue 15, item 1: the tool's own outputs saved among the returns are never taken as a department's.

The scene, as a strategy office meets it: templates filled and returned, ``reconcile`` writes the
master, and the master (or the diff, or the strategy workbook) is saved into the returned folder,
"to keep everything in one place". The next reconcile must give the same master, say what it
skipped, and never let a workbook identified only by its content replace a signed return.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections import Counter
from pathlib import Path

import pytest

from cascadebook import reconcile
from cascadebook.cycle.checkin import generate_checkins
from cascadebook.cycle.diff import diff_masters, write_diff_workbook
from cascadebook.intake.dispatch import checkin_spec, is_checkin
from cascadebook.mail.feedback import annotate_workbook
from cascadebook.mail.status import department_status
from cascadebook.master.read import read_master
from cascadebook.master.write import write_master
from conftest import ROOT, clean_initiative, clean_kpi
from corpus import make_corpus as corpus
from fill import fill_workbook
from strategy_book import write_strategy_workbook

TODAY = dt.date(2027, 1, 20)


def _fill_cycle(fill) -> dict[str, Path]:
    """Three departments return their plans; Marketing's is the one the old master was taken for."""
    return {
        "MKT": fill(
            "MKT",
            "Marketing plan.xlsx",
            saved_at=dt.datetime(2027, 1, 10, 9),
            rows={
                "initiatives": [
                    clean_initiative("CO1", "Enterprise campaign", 40, 150),
                    clean_initiative("CO6", "Customer webinars", 30, 40),
                ],
                "kpis": [clean_kpi("MKT-I01", "Qualified leads"), clean_kpi("MKT-I02", "Webinar attendance")],
            },
        ),
        "SAL": fill(
            "SAL",
            "sales.xlsx",
            saved_at=dt.datetime(2027, 1, 11, 9),
            rows={
                "initiatives": [
                    clean_initiative("CO1", "Deal desk", 10, 20),
                    clean_initiative("CO6", "Account reviews", 33, 43),
                    clean_initiative("CO1", "Partner channel", 2, 8),
                ],
                "kpis": [
                    clean_kpi("SAL-I01", "Deals reviewed"),
                    clean_kpi("SAL-I02", "Reviews held"),
                    clean_kpi("SAL-I03", "Partners signed"),
                ],
            },
        ),
        "OPS": fill(
            "OPS",
            "FY2027_OPS.xlsx",
            saved_at=dt.datetime(2027, 1, 12, 9),
            rows={
                "initiatives": [clean_initiative("CO6", "Support rota", 30, 36)],
                "kpis": [clean_kpi("OPS-I01", "Tickets closed")],
            },
        ),
    }


def _by_department(master: Path) -> dict[str, dict[str, list[tuple[str, str]]]]:
    """What the master workbook holds, read back from the file: department -> sheet -> (id, title/name)."""
    data = read_master(master)
    out: dict[str, dict[str, list[tuple[str, str]]]] = {}
    for key, rows in data.records.items():
        for r in rows:
            label = str(r.values.get("title") or r.values.get("name") or "")
            out.setdefault(r.department, {}).setdefault(key, []).append((r.id, label))
    return {d: {k: sorted(v) for k, v in sheets.items()} for d, sheets in out.items()}


def _live(result, skip_file: str | None = None) -> Counter:
    return Counter((f.code, f.file, f.message) for f in result.findings if f.file != skip_file)


@pytest.fixture
def first(strategy, key, returned, fill, workdir):
    """The first reconcile of the cycle and its master, written outside the returned folder."""
    _fill_cycle(fill)
    result = reconcile(strategy, [returned], key=key, jobs=1)
    master = write_master(result, workdir / "master.xlsx")
    return result, master


def _again_with(strategy, key, returned, workdir, first, placed: Path, what: str):
    """Reconcile once more with ``placed`` among the returns; the master must not change."""
    result1, master1 = first
    result2 = reconcile(strategy, [returned], key=key, jobs=1)
    master2 = write_master(result2, workdir / "master again.xlsx")
    assert _by_department(master2) == _by_department(master1)
    assert dict(Counter(r.department for r in result2.initiatives)) == {"MKT": 2, "SAL": 3, "OPS": 1}
    shown = f"returned/{placed.name}"
    [source] = [s for s in result2.sources if s.file == shown]
    assert (source.status, source.department, source.row_count) == ("skipped", "", 0)
    [note] = [f for f in result2.findings if f.file == shown]
    assert note.code == "not-a-return" and note.severity.value == "info"
    assert note.message.startswith(f"{shown} is {what}") and note.message.endswith("not a department's return; skipped")
    # Marketing's own workbook is still the one used, and nothing else about the run moved.
    assert result2.accepted()["MKT"].file == "returned/Marketing plan.xlsx"
    assert not any(f.code == "superseded-submission" for f in result2.findings)
    assert _live(result2, shown) == _live(result1)
    assert result2.counts == {**result1.counts, "info": result1.counts["info"] + 1}
    return result2, note


def test_last_runs_master_in_the_returned_folder_is_skipped(strategy, key, returned, workdir, first):
    placed = shutil.copyfile(first[1], returned / "master.xlsx")
    _again_with(strategy, key, returned, workdir, first, placed, "a cascadebook master workbook")


def test_a_master_renamed_after_a_department_is_skipped_too(strategy, key, returned, workdir, first):
    placed = shutil.copyfile(first[1], returned / "MKT_final.xlsx")
    _again_with(strategy, key, returned, workdir, first, placed, "a cascadebook master workbook")


def test_a_diff_workbook_in_the_returned_folder_is_skipped(strategy, key, returned, workdir, first):
    old = read_master(first[1])
    placed = write_diff_workbook(diff_masters(old, old), returned / "FY2027_MKT changes.xlsx")
    _again_with(strategy, key, returned, workdir, first, placed, "a cascadebook diff workbook")


def test_a_diff_workbook_written_before_kinds_were_stamped_is_skipped(strategy, key, returned, workdir, first):
    old = read_master(first[1])
    made = write_diff_workbook(diff_masters(old, old), workdir / "changes.xlsx")
    placed = _without_kind(made, returned / "FY2027_MKT changes.xlsx")
    _, note = _again_with(strategy, key, returned, workdir, first, placed, "a cascadebook diff workbook")
    assert "(no kind stamped: recognised by its 'Changes' and 'Coverage' sheets)" in note.message


def test_the_strategy_workbook_in_the_returned_folder_is_skipped(strategy, key, returned, workdir, first):
    placed = write_strategy_workbook(strategy, returned / "MKT.xlsx")
    _again_with(strategy, key, returned, workdir, first, placed, "a cascadebook strategy workbook, not")


def test_a_strategy_workbook_without_a_kind_is_recognised_by_its_sheets(strategy, key, returned, workdir, first):
    """A strategy workbook written before workbooks said what they are (the shipped sample, kind removed)."""
    placed = _without_kind(ROOT / "samples" / "strategy.xlsx", returned / "strategy.xlsx")
    _, note = _again_with(strategy, key, returned, workdir, first, placed, "a cascadebook strategy workbook")
    assert "(no kind stamped: recognised by its sheets 'Objectives', 'Departments')" in note.message


def _without_kind(source: Path, target: Path) -> Path:
    """The master as an earlier cascadebook wrote it: no ``cascadebook.*`` document property at all."""
    parts = corpus.package_parts(source)
    assert b'name="cascadebook.kind"' in parts["docProps/custom.xml"]
    parts["docProps/custom.xml"] = parts["docProps/custom.xml"].replace(b'name="cascadebook.', b'name="other.')
    return corpus.rezip(target, parts)


def test_a_master_written_before_kinds_were_stamped_is_still_skipped(strategy, key, returned, workdir, first):
    placed = _without_kind(first[1], returned / "Marketing goals (master).xlsx")
    _, note = _again_with(strategy, key, returned, workdir, first, placed, "a cascadebook master workbook")
    assert "(no kind stamped: recognised by the 'Department' column of its 'Initiatives' table)" in note.message


def test_status_does_not_report_the_master_as_a_departments_return(strategy, key, returned, workdir, first):
    before = department_status(strategy, [returned], key=key, today=TODAY)
    _without_kind(first[1], returned / "old master.xlsx")
    shutil.copyfile(first[1], returned / "master.xlsx")
    after = department_status(strategy, [returned], key=key, today=TODAY)
    assert [(d.code, d.state, d.file) for d in after.departments] == [
        (d.code, d.state, d.file) for d in before.departments
    ]
    rows = {d.code: d for d in after.departments}
    assert rows["MKT"].file == "returned/Marketing plan.xlsx" and rows["MKT"].state == "returned"
    assert all("master" not in d.file for d in after.departments)
    assert after.count("returned") == 3


def test_export_says_what_it_is(first, workdir):
    import yaml

    from cascadebook.cycle.export import export_master, read_master_or_export

    [hierarchy, *_] = export_master(first[1], workdir / "export")
    assert yaml.safe_load(hierarchy.read_text(encoding="utf-8"))["kind"] == "export"
    assert read_master_or_export(workdir / "export").initiatives  # and it is still read back as before


# ---- what stays a return ---------------------------------------------------------------------------


def test_a_feedback_copy_sent_back_is_still_the_departments_return(strategy, key, returned, workdir, first):
    result1, _ = first
    mkt = result1.accepted()["MKT"]
    copy = annotate_workbook(
        mkt.path, workdir / "FY2027_MKT - to fix.xlsx", [f for f in result1.findings if f.department == "MKT"]
    )
    fill_workbook(
        copy,
        returned / "FY2027_MKT - to fix.xlsx",
        cells={"Initiatives!C6": "Customer webinars, EMEA"},
        saved_at=dt.datetime(2027, 1, 15, 9),
    )
    result2 = reconcile(strategy, [returned], key=key, jobs=1)
    kept = result2.accepted()["MKT"]
    assert (kept.file, kept.identified_by) == ("returned/FY2027_MKT - to fix.xlsx", "metadata sheet")
    assert not any(f.code == "not-a-return" for f in result2.findings)
    assert sorted(r.get("title") for r in result2.initiatives if r.department == "MKT") == [
        "Customer webinars, EMEA",
        "Enterprise campaign",
    ]


def test_check_ins_next_to_the_plans_and_the_master_are_still_returns(strategy, key, returned, workdir, first):
    _, master = first
    [q1] = generate_checkins(strategy, read_master(master), workdir / "Q1", "Q1", departments=["MKT"], key=key)
    fill_workbook(
        q1,
        returned / "MKT Q1.xlsx",
        spec=checkin_spec(),
        rows={"initiatives": [dict(actual=60, status="On track"), dict(actual=32, status="On track")]},
    )
    shutil.copyfile(master, returned / "master.xlsx")
    result = reconcile(strategy, [returned], key=key, jobs=1)
    [checkin] = [s for s in result.sources if s.file == "returned/MKT Q1.xlsx"]
    assert is_checkin(checkin) and checkin.status == "accepted" and checkin.department == "MKT"
    assert [s.status for s in result.sources if s.file == "returned/master.xlsx"] == ["skipped"]
    assert result.progress is not None and result.accepted()["MKT"].file == "returned/Marketing plan.xlsx"


# ---- identity by content ------------------------------------------------------------------------------


def _rebuilt(fill, name: str, saved_at: dt.datetime, rows: dict, cells: dict | None = None) -> Path:
    """Marketing's rows copied into a fresh workbook: no hidden sheet, no document properties."""
    path = fill("MKT", name, rows=rows, cells=cells or {}, saved_at=saved_at)
    corpus.edit(path, path, corpus.strip_metadata)
    return fill_workbook(path, path, saved_at=saved_at)  # the save time the person's program would set


@pytest.mark.parametrize("rebuilt_day", [5, 25])  # older and newer than the signed return: the signed one wins
def test_a_workbook_identified_by_content_never_replaces_a_signed_return(strategy, key, returned, fill, rebuilt_day):
    signed = fill(
        "MKT",
        "Marketing plan.xlsx",
        saved_at=dt.datetime(2027, 1, 10, 9),
        rows={
            "initiatives": [clean_initiative("CO1", "Enterprise campaign", 40, 150)],
            "kpis": [clean_kpi("MKT-I01", "Qualified leads")],
        },
    )
    _rebuilt(
        fill,
        "marketing copy.xlsx",
        dt.datetime(2027, 1, rebuilt_day, 9),
        rows={
            "initiatives": [clean_initiative("CO1", "Something else", 1, 2), clean_initiative("CO6", "And more", 1, 2)]
        },
    )
    result = reconcile(strategy, [returned], key=key, jobs=1)
    assert result.accepted()["MKT"].file == f"returned/{signed.name}"
    assert [r.get("title") for r in result.initiatives] == ["Enterprise campaign"]
    [copy] = [s for s in result.sources if s.file == "returned/marketing copy.xlsx"]
    assert (copy.status, copy.identified_by) == ("superseded", "content")
    mine = [f for f in result.findings if f.file == "returned/marketing copy.xlsx"]
    assert [(f.code, f.severity.value) for f in mine] == [("superseded-submission", "info"), ("rows-not-taken", "info")]
    assert mine[0].message == (
        "returned/Marketing plan.xlsx is MKT's signed return; this workbook was identified "
        "only by its visible content, so it does not replace it, whatever their dates"
    )
    assert mine[1].rows == (5, 6) and mine[1].sheet == "Initiatives"


def test_without_a_signed_return_the_content_identified_workbook_is_still_taken(strategy, key, returned, fill):
    _rebuilt(
        fill,
        "marketing copy.xlsx",
        dt.datetime(2027, 1, 5, 9),
        rows={"initiatives": [clean_initiative("CO1", "Campaign", 1, 2)]},
    )
    result = reconcile(strategy, [returned], key=key, jobs=1)
    assert result.accepted()["MKT"].identified_by == "content"
    assert "identified-by-content" in {f.code for f in result.findings}


def test_a_workbook_with_several_departments_rows_is_refused(strategy, key, returned, fill, workdir):
    """Sales' rows pasted, with their ids, under Marketing's in a rebuilt workbook."""
    _rebuilt(
        fill,
        "merged plans.xlsx",
        dt.datetime(2027, 1, 5, 9),
        rows={
            "initiatives": [
                clean_initiative("CO1", "Campaign", 1, 2),
                clean_initiative("CO1", "Deal desk", 1, 2),
                clean_initiative("CO6", "Account reviews", 1, 2),
            ]
        },
        cells={"Initiatives!A6": "SAL-I01", "Initiatives!A7": "SAL-I02"},
    )
    result = reconcile(strategy, [returned], key=key, jobs=1)
    [source] = result.sources
    assert (source.status, source.department) == ("rejected", "")
    assert not result.initiatives and not result.accepted()
    codes = [(f.code, f.severity.value) for f in result.findings if f.file == "returned/merged plans.xlsx"]
    assert codes == [("several-departments", "error"), ("rows-not-taken", "info")]
    [refused] = [f for f in result.findings if f.code == "several-departments"]
    assert "several departments (MKT, SAL)" in refused.message and "none of its rows was taken" in refused.message
    [not_taken] = [f for f in result.findings if f.code == "rows-not-taken"]
    assert not_taken.rows == (5, 6, 7)
    assert {f.department for f in result.findings if f.code == "department-not-returned"} >= {"MKT", "SAL"}
    status = department_status(strategy, [returned], key=key, today=TODAY)
    assert {d.code: d.state for d in status.departments}["MKT"] == "waiting"


# ---- item 9: a file not used raises nothing live --------------------------------------------------------


def test_a_superseded_drafts_warnings_and_errors_are_not_live(strategy, key, returned, fill, templates):
    draft = fill(
        "MKT",
        "draft.xlsx",
        saved_at=dt.datetime(2027, 1, 5, 9),
        rows={"initiatives": [clean_initiative("CO1", "Campaign", 1, 2)]},
        cells={"Initiatives!J4": "", "Initiatives!Z5": "note to self"},
    )  # a header deleted, a stray column
    final = fill(
        "MKT",
        "final.xlsx",
        saved_at=dt.datetime(2027, 1, 9, 9),
        rows={"initiatives": [clean_initiative("CO1", "Campaign", 1, 2)], "kpis": [clean_kpi("MKT-I01", "Leads")]},
    )
    alone = reconcile(strategy, [draft], key=key, jobs=1)
    assert {f.severity.value for f in alone.findings if f.file == draft.name} >= {"error"}  # it has problems
    result = reconcile(strategy, [returned], key=key, jobs=1)
    mine = [f for f in result.findings if f.file == f"returned/{draft.name}"]
    assert {f.severity.value for f in mine} == {"info"}
    assert {f.code for f in mine} == {"superseded-submission", "rows-not-taken", "extra-column"}
    live = {k: v for k, v in result.findings_for("MKT").items() if k != "info"}
    assert live == {
        k: v for k, v in reconcile(strategy, [final], key=key, jobs=1).findings_for("MKT").items() if k != "info"
    }


def test_a_rejected_file_keeps_only_why(strategy, key, returned, fill, templates):
    """Metadata edited to say Sales, and a header deleted: only the rejection is live."""
    path = fill(
        "MKT",
        "copied.xlsx",
        rows={"initiatives": [clean_initiative("CO1", "Campaign", 1, 2)]},
        cells={"Initiatives!J4": "", "_cascadebook!B4": "SAL"},
    )
    result = reconcile(strategy, [returned], key=key, jobs=1)
    [source] = result.sources
    assert source.status == "rejected"
    codes = {(f.code, f.severity.value) for f in result.findings if f.file == f"returned/{path.name}"}
    # the deleted header's missing-column error is gone; the column J value it left is still named (info)
    assert codes == {("signature-mismatch", "error"), ("extra-column", "info"), ("rows-not-taken", "info")}


def test_a_superseded_check_ins_problems_are_not_live(strategy, key, returned, workdir, first):
    _, master = first
    [q1] = generate_checkins(strategy, read_master(master), workdir / "Q1", "Q1", departments=["MKT"], key=key)
    rows = {"initiatives": [dict(actual=60, status="On track"), dict(actual=32, status="On track")]}
    early = fill_workbook(
        q1,
        returned / "MKT Q1 first go.xlsx",
        spec=checkin_spec(),
        rows=rows,
        cells={"Initiatives!L4": ""},
        saved_at=dt.datetime(2027, 4, 2, 9),
    )  # "Actual" header gone
    fill_workbook(q1, returned / "MKT Q1.xlsx", spec=checkin_spec(), rows=rows, saved_at=dt.datetime(2027, 4, 3, 9))
    alone = reconcile(strategy, [early], key=key, jobs=1)
    assert "missing-column" in {f.code for f in alone.findings if f.file == early.name}
    result = reconcile(strategy, [returned], key=key, jobs=1)
    mine = [f for f in result.findings if f.file == f"returned/{early.name}"]
    assert {f.severity.value for f in mine} == {"info"}
    assert {"superseded-submission", "rows-not-taken"} <= {f.code for f in mine}
    assert [s.status for s in result.sources if s.file == f"returned/{early.name}"] == ["superseded"]


def test_an_old_master_with_its_department_column_deleted_is_refused_by_its_ids(
    strategy, key, returned, workdir, first
):
    """No kind, no Department column: the ids of three departments still keep it out."""
    result1, master = first
    old = _without_kind(master, workdir / "old master.xlsx")

    def drop_department_column(book):
        for title in ("Initiatives", "KPIs"):
            book[title].delete_cols(1)

    corpus.edit(old, returned / "Marketing goals.xlsx", drop_department_column)
    result = reconcile(strategy, [returned], key=key, jobs=1)
    [source] = [s for s in result.sources if s.file == "returned/Marketing goals.xlsx"]
    assert (source.status, source.department, source.identified_by) == ("rejected", "", "content")
    [refused] = [f for f in result.findings if f.code == "several-departments"]
    assert refused.file == "returned/Marketing goals.xlsx" and "(MKT, OPS, SAL)" in refused.message
    assert sorted((r.department, r.id) for r in result.initiatives) == sorted(
        (r.department, r.id) for r in result1.initiatives
    )
    assert result.accepted()["MKT"].file == "returned/Marketing plan.xlsx"
