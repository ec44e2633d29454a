"""The review columns' rules beyond carrying (issue 19): finance acknowledges a change by clearing the
Review check cell; ``--review-from`` never replaces a master holding decisions it does not have; the
master replaced is kept as ``.previous.xlsx``, written before the new master takes its place.

Masters are made through the command line and typed into with openpyxl as finance would; every check
reads the files back cell by cell.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from cascadebook import generate, load_key, load_spec, load_strategy
from cascadebook.cli import cli
from conftest import SAMPLE_STRATEGY, clean_initiative, clean_kpi
from fill import fill_workbook
from review_typing import type_into_master

SPEC = load_spec()
ABM = clean_initiative("CO1", "ABM campaign", 40, 150, budget=600000)
CONTENT = clean_initiative("CO1", "Content programme", 1, 2, budget=100000)
SELLING = clean_initiative("CO1", "Solution selling", 0.15, 0.22, budget=180000)


def _fill(root: Path, code: str, initiatives: list[dict]) -> None:
    kpis = [clean_kpi(f"{code}-I{n:02d}", f"KPI {n}") for n in range(1, len(initiatives) + 1)]
    fill_workbook(
        root / "outbox" / f"FY2027_{code}.xlsx",
        root / "returned" / f"{code}.xlsx",
        rows={"initiatives": initiatives, "kpis": kpis},
    )


def _reconcile(root: Path, master: Path, *extra: str):
    args = ["reconcile", str(root / "strategy.yaml"), str(root / "returned"), "-q", "-o", str(master), *extra]
    return CliRunner().invoke(cli, args)


def _rows(path: Path) -> dict[str, dict[str, object]]:
    ws = openpyxl.load_workbook(path, read_only=True)["Initiatives"]
    rows = list(ws.iter_rows(values_only=True))
    header = list(rows[0])
    return {r[header.index("Initiative ID")]: dict(zip(header, r)) for r in rows[1:] if r[0]}


def _findings(path: Path, code: str) -> list[tuple]:
    ws = openpyxl.load_workbook(path, read_only=True)["Findings"]
    return [r for r in ws.iter_rows(values_only=True) if r[1] == code]


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("rules")
    shutil.copyfile(SAMPLE_STRATEGY, root / "strategy.yaml")
    strategy = load_strategy(root / "strategy.yaml")
    key = load_key(root / "strategy.yaml", create=True)
    generate(strategy, root / "outbox", key=key, departments=["MKT", "SAL"])
    (root / "returned").mkdir()
    return root


@pytest.fixture
def decided(root: Path, tmp_path: Path) -> Path:
    """A master of MKT (ABM, Content) and SAL (Selling), with decisions on ABM and Selling typed in."""
    _fill(root, "MKT", [ABM, CONTENT])
    _fill(root, "SAL", [SELLING])
    master = tmp_path / "master.xlsx"
    assert _reconcile(root, master).exit_code == 0
    type_into_master(
        master,
        {
            "MKT-I01": {"Decision": "Approved with changes", "Approved budget": 500000},
            "SAL-I01": {"Decision": "Rejected", "Comment": "not now"},
        },
    )
    return master


# ---- acknowledging a change ------------------------------------------------------------------------


def test_clearing_the_review_check_acknowledges_the_change_and_only_that_does(root, decided):
    _fill(root, "MKT", [{**ABM, "target": 180, "budget": 650000}, CONTENT])
    assert _reconcile(root, decided).exit_code == 0
    flagged = _rows(decided)["MKT-I01"]
    assert flagged["Review check"] == "changed since reviewed: Target 150 -> 180; Budget 600,000 -> 650,000"
    # finance re-decides without clearing the flag: the flag stays (the snapshot is the initiative's, not the decision's)
    type_into_master(decided, {"MKT-I01": {"Decision": "Approved", "Approved budget": None}})
    assert _reconcile(root, decided).exit_code == 0
    again = _rows(decided)["MKT-I01"]
    assert (again["Decision"], again["Approved budget"]) == ("Approved", None)
    assert again["Review check"] == flagged["Review check"] and again["Reviewed target"] == 150
    # finance clears the flag: the next run re-takes the snapshot from the row finance saw
    type_into_master(decided, {"MKT-I01": {"Review check": None}})
    assert _reconcile(root, decided).exit_code == 0
    cleared = _rows(decided)["MKT-I01"]
    assert (cleared["Review check"], cleared["Reviewed target"], cleared["Reviewed budget"]) == (None, 180, 650000)
    assert (cleared["Reviewed title"], cleared["Decision"]) == ("ABM campaign", "Approved")
    assert not _findings(decided, "decision-changed")
    # a further change is flagged against the acknowledged snapshot
    _fill(root, "MKT", [{**ABM, "target": 200, "budget": 650000}, CONTENT])
    assert _reconcile(root, decided).exit_code == 0
    assert _rows(decided)["MKT-I01"]["Review check"] == "changed since reviewed: Target 180 -> 200"
    assert _rows(decided)["SAL-I01"]["Review check"] is None  # never changed: never flagged


def test_text_typed_over_the_review_check_is_not_an_acknowledgement(root, decided):
    _fill(root, "MKT", [{**ABM, "target": 180}, CONTENT])
    assert _reconcile(root, decided).exit_code == 0
    type_into_master(decided, {"MKT-I01": {"Review check": "seen"}})
    assert _reconcile(root, decided).exit_code == 0
    row = _rows(decided)["MKT-I01"]
    assert (row["Review check"], row["Reviewed target"]) == ("changed since reviewed: Target 150 -> 180", 150)


# ---- --review-from never loses the master's decisions ----------------------------------------------


def test_review_from_an_old_master_refuses_to_replace_a_master_with_other_decisions(root, decided, tmp_path):
    _fill(root, "MKT", [ABM, CONTENT])
    old = tmp_path / "old.xlsx"
    shutil.copyfile(decided, old)
    type_into_master(old, {"SAL-I01": {"Comment": "not this year"}})  # OLD differs on one decision
    type_into_master(decided, {"MKT-I02": {"Decision": "Revise", "Comment": "which channels?"}})  # MASTER has one more
    before = decided.read_bytes()
    run = _reconcile(root, decided, "--review-from", str(old))
    assert run.exit_code == 2, run.output
    lines = run.output.strip().splitlines()
    assert (
        len(lines) == 1 and "master.xlsx holds decisions that old.xlsx has not (MKT MKT-I02 at Initiatives!" in lines[0]
    )
    assert (
        "and 1 more" in lines[0]
        and "pass --review-from master.xlsx" in lines[0]
        and "move master.xlsx away" in lines[0]
    )
    assert decided.read_bytes() == before and not (tmp_path / "master.previous.xlsx").exists()
    # the master itself as --review-from, or an OLD holding the same decisions: carried, no refusal
    assert _reconcile(root, decided, "--review-from", str(decided)).exit_code == 0
    assert _rows(decided)["MKT-I02"]["Comment"] == "which channels?"
    shutil.copyfile(decided, old)
    run = _reconcile(root, decided, "--review-from", str(old))
    assert run.exit_code == 0, run.output
    assert (_rows(decided)["SAL-I01"]["Comment"], _rows(decided)["MKT-I01"]["Approved budget"]) == ("not now", 500000)


def test_review_from_onto_a_master_without_decisions_or_not_a_master_is_allowed(root, decided, tmp_path):
    _fill(root, "MKT", [ABM, CONTENT])
    bare = tmp_path / "bare.xlsx"
    assert _reconcile(root, bare).exit_code == 0  # a master with no decisions typed
    assert _reconcile(root, bare, "--review-from", str(decided)).exit_code == 0
    assert _rows(bare)["SAL-I01"]["Decision"] == "Rejected"
    other = tmp_path / "other.xlsx"
    openpyxl.Workbook().save(other)  # not a master: nothing to lose (kept as other.previous.xlsx)
    assert _reconcile(root, other, "--review-from", str(decided)).exit_code == 0
    assert (tmp_path / "other.previous.xlsx").is_file() and _rows(other)["MKT-I01"]["Decision"]


# ---- the backup ------------------------------------------------------------------------------------


def test_the_backup_holds_the_old_masters_bytes_and_is_in_place_before_the_new_master(root, decided, monkeypatch):
    _fill(root, "MKT", [ABM, CONTENT])
    old = decided.read_bytes()
    backup = decided.with_name("master.previous.xlsx")
    backup.write_bytes(b"the run before's backup")
    renamed: list[str] = []
    real = os.replace

    def replace(src, dst):  # every output is put in place by a rename (atomic.py): note their order
        renamed.append(Path(dst).name)
        return real(src, dst)

    monkeypatch.setattr("cascadebook.atomic.os.replace", replace)
    assert _reconcile(root, decided).exit_code == 0
    outputs = [n for n in renamed if n in ("master.xlsx", "master.previous.xlsx")]
    assert outputs == ["master.previous.xlsx", "master.xlsx"]
    assert backup.read_bytes() == old and decided.read_bytes() != old
    assert not [p for p in decided.parent.iterdir() if p.name.startswith(".")]  # no temporary file left


def test_a_failure_writing_the_new_master_leaves_the_master_and_its_backup_as_they_were(root, decided, monkeypatch):
    old = decided.read_bytes()
    backup = decided.with_name("master.previous.xlsx")
    backup.write_bytes(b"the run before's backup")

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("cascadebook.pipeline.write_master", broken)
    run = _reconcile(root, decided)
    assert run.exit_code != 0
    assert decided.read_bytes() == old and backup.read_bytes() == b"the run before's backup"
