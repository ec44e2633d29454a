"""Check-ins go through the plan's rules engine and the plan's newest-wins.

A plan and a check-in are filled as a person would, with the same kinds of mistakes in cells of the
same kind, reconciled together (in worker processes), and their findings compared: same code, and a
finding that points at the very cell typed into. A check-in's message names its item first, and an
actual of the wrong type has its own code (README: ``actual-wrong-type``). Two check-ins for the same
period: the newer wins, by the function plans use, and a workbook known only by its content never
beats a signed one.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import replace
from datetime import datetime
from types import SimpleNamespace

import pytest

from cascadebook import generate, load_key, load_strategy, reconcile, write_master
from cascadebook.consolidate import checkins as checkins_module
from cascadebook.consolidate import newest as newest_module
from cascadebook.consolidate import reconcile as reconcile_module
from cascadebook.consolidate.newest import newest_wins
from cascadebook.cycle.checkin import generate_checkins
from cascadebook.intake.dispatch import checkin_spec
from cascadebook.master.read import read_master
from cascadebook.spec.schema import load_spec
from cascadebook.template.department import HEADER_ROW
from cascadebook.xlsx.addresses import column_letter
from conftest import SAMPLE_STRATEGY, clean_initiative, clean_kpi
from fill import fill_workbook

ROW = HEADER_ROW + 1  # the first data row, where every value below is typed


def cell(spec, sheet_key: str, column_key: str, row: int = ROW) -> str:
    """The A1 of a column of a spec's sheet (the spec's column order is the workbook's)."""
    sheet = spec.sheet(sheet_key)
    return f"{column_letter([c.key for c in sheet.columns].index(column_key) + 1)}{row}"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("checkin-rules")
    strategy_path = root / "strategy.yaml"
    shutil.copyfile(SAMPLE_STRATEGY, strategy_path)
    strategy = load_strategy(strategy_path)
    key = load_key(strategy_path, create=True)
    templates = {p.stem.split("_")[-1]: p for p in generate(strategy, root / "outbox", key=key)}
    returned = root / "returned"
    fill_workbook(
        templates["MKT"],
        returned / "MKT.xlsx",
        rows={
            "initiatives": [
                clean_initiative("CO1", "Campaign", 40, 150, headcount="about 3", contribution_weight=60),
                clean_initiative("CO3", "Share of voice", "48%", "60%", unit="%"),
            ],
            "kpis": [
                clean_kpi("MKT-I01", "Leads", frequency="sometimes", baseline="1,200", target=2000),
                clean_kpi("MKT-I02", "Mentions"),
            ],
        },
    )
    fill_workbook(
        templates["SAL"],
        returned / "SAL.xlsx",
        rows={
            "initiatives": [clean_initiative("CO1", "Solution selling", 10, 20)],
            "kpis": [clean_kpi("SAL-I01", "Deals")],
        },
    )
    plan = reconcile(strategy, [returned], key=key, jobs=1)
    made = {
        p.name.split("_")[1]: p
        for p in generate_checkins(
            strategy, read_master(write_master(plan, root / "master.xlsx")), root / "q1", "Q1", key=key
        )
    }
    spec = checkin_spec()
    inbox = root / "checkins"
    fill_workbook(
        made["MKT"],
        inbox / "MKT.xlsx",
        spec=spec,
        rows={
            "initiatives": [
                dict(actual="about 30", status="sometimes"),  # a value that is not a number; not a listed status
                dict(actual=18, status="On track"),  # a % item: 18 typed means 18%
            ],
            "kpis": [dict(actual="1,200"), dict(actual=4)],  # a number typed as text
        },
    )
    early, late = datetime(2027, 4, 2), datetime(2027, 4, 9)
    fill_workbook(
        made["SAL"], inbox / "SAL early.xlsx", spec=spec, rows={"initiatives": [dict(actual=12)]}, saved_at=early
    )
    fill_workbook(
        made["SAL"], inbox / "SAL late.xlsx", spec=spec, rows={"initiatives": [dict(actual=14)]}, saved_at=late
    )
    result = reconcile(strategy, [returned, inbox], key=key, jobs=2)  # five files: read in worker processes
    return SimpleNamespace(strategy=strategy, key=key, root=root, result=result, plan_spec=load_spec(), spec=spec)


def found(run, code: str, file: str, at: str):
    hits = [f for f in run.result.findings if f.code == code and f.file == file and f.cell == at]
    assert len(hits) == 1, [(f.code, f.file, f.cell, f.message) for f in run.result.findings if f.file == file]
    return hits[0]


def test_a_wrong_actual_is_reported_like_a_wrong_plan_number_at_its_own_cell(run):
    plan = found(run, "wrong-type", "returned/MKT.xlsx", cell(run.plan_spec, "initiatives", "headcount"))
    checkin = found(run, "actual-wrong-type", "checkins/MKT.xlsx", cell(run.spec, "initiatives", "actual"))
    assert (plan.sheet, checkin.sheet) == ("Initiatives", "Initiatives")
    assert plan.message == "Headcount should be a number, found 'about 3'"
    assert checkin.message == "MKT-I01: Actual should be a number, found 'about 30'"  # the same words, item first
    assert plan.severity == checkin.severity and checkin.department == "MKT"
    # kept as typed, and no progress made of it
    assert run.result.progress.item("initiatives", "MKT", "MKT-I01").actual is None


def test_a_value_not_on_the_list_is_the_same_finding_in_a_plan_and_a_checkin(run):
    plan = found(run, "wrong-type", "returned/MKT.xlsx", cell(run.plan_spec, "kpis", "frequency"))
    checkin = found(run, "wrong-type", "checkins/MKT.xlsx", cell(run.spec, "initiatives", "status"))
    assert plan.message == "Frequency should be one of Weekly, Monthly, Quarterly, Annually, found 'sometimes'"
    assert checkin.message == "MKT-I01: Status should be one of On track, At risk, Off track, Done, found 'sometimes'"
    assert (plan.sheet, checkin.sheet) == ("KPIs", "Initiatives") and plan.severity == checkin.severity


def test_a_percentage_typed_as_a_plain_number_reads_the_same_in_both(run):
    plan = found(
        run, "value-interpreted", "returned/MKT.xlsx", cell(run.plan_spec, "initiatives", "contribution_weight")
    )
    at = cell(run.spec, "initiatives", "actual", ROW + 1)
    checkin = found(run, "value-interpreted", "checkins/MKT.xlsx", at)
    assert plan.message == "Weight: read 60 as 60%"
    assert checkin.message == "Actual: read 18 as 18%"  # the row's % item: the engine read its actual as a percent
    assert run.result.progress.item("initiatives", "MKT", "MKT-I02").actual == pytest.approx(0.18)


def test_a_number_typed_as_text_is_read_in_both_and_flagged_only_where_the_template_checks_live(run):
    plan = found(run, "read-leniently", "returned/MKT.xlsx", cell(run.plan_spec, "kpis", "baseline"))
    assert plan.message == "Baseline '1,200' was read as 1200; the template asks for a number"
    # The check-in workbook has no live checks (no Check column) to have flagged it: read, and nothing to say.
    at = cell(run.spec, "kpis", "actual")
    assert not [f for f in run.result.findings if f.file == "checkins/MKT.xlsx" and f.cell == at]
    assert run.result.progress.item("kpis", "MKT", "MKT-K01").actual == 1200
    codes = {f.code for f in run.result.findings if f.file == "checkins/MKT.xlsx"}
    # nothing else (18% is behind MKT-I02's baseline of 48%: progress says so)
    assert codes == {"actual-wrong-type", "wrong-type", "value-interpreted", "progress-capped"}


def test_the_newer_checkin_wins_with_the_plans_finding(run):
    sources = {s.file: s for s in run.result.sources}
    early, late = sources["checkins/SAL early.xlsx"], sources["checkins/SAL late.xlsx"]
    assert (early.status, early.reason) == ("superseded", "superseded by checkins/SAL late.xlsx")
    assert (late.status, late.reason) == ("accepted", "Q1 check-in")
    assert run.result.progress.item("initiatives", "SAL", "SAL-I01").actual == 14
    said = [f for f in run.result.findings if f.file == early.file]
    assert [f.code for f in said] == ["superseded-submission", "rows-not-taken"]
    assert said[0].message == (
        f"checkins/SAL late.xlsx is a newer Q1 check-in from SAL ({late.modified} vs {early.modified})"
    )
    assert re.fullmatch(r"2027-04-09T00:00:00Z?", late.modified.replace("+00:00", "Z"))


def test_a_checkin_known_only_by_content_never_beats_a_signed_one(run):
    sources = {s.file: s for s in run.result.sources}
    signed = replace(sources["checkins/SAL early.xlsx"], status="accepted", findings=[])
    content = replace(sources["checkins/SAL late.xlsx"], identified_by="content", findings=[])
    kept = newest_wins([content, signed], key=lambda r: (r.department, r.metadata.period), what=lambda r: "Q1 check-in")
    assert kept == {("SAL", "Q1"): signed} and content.status == "superseded"
    assert [f.message for f in content.findings] == [
        (
            "checkins/SAL early.xlsx is SAL's signed Q1 check-in; this workbook was identified only by its "
            "visible content, so it does not replace it, whatever their dates"
        )
    ]


def test_plans_and_checkins_use_the_one_newest_wins(run, monkeypatch):
    keys = []

    def spy(returns, key, what=None):
        returns = list(returns)
        keys.extend(key(r) for r in returns)
        return newest_module.newest_wins(returns, key, what)

    monkeypatch.setattr(reconcile_module, "newest_wins", spy)
    monkeypatch.setattr(checkins_module, "newest_wins", spy)
    reconcile(run.strategy, [run.root / "returned", run.root / "checkins"], key=run.key, jobs=1)
    assert sorted(keys, key=str) == sorted(["MKT", "SAL", ("MKT", "Q1"), ("SAL", "Q1"), ("SAL", "Q1")], key=str)


def test_a_checkin_read_without_the_worker_is_checked_the_same(run, monkeypatch):
    """Consolidation validates a check-in the worker did not (the same function, the same findings)."""
    from cascadebook import pipeline

    monkeypatch.setattr(pipeline, "validate_checkin", lambda strategy, ret: None)
    again = reconcile(run.strategy, [run.root / "returned", run.root / "checkins"], key=run.key, jobs=1)
    mine = sorted((f.code, f.file, f.cell, f.message) for f in again.findings if f.file.startswith("checkins/"))
    assert mine == sorted(
        (f.code, f.file, f.cell, f.message) for f in run.result.findings if f.file.startswith("checkins/")
    )
