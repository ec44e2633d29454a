"""Two edges of today's work: an ``all_or_nothing`` commit interrupted (Ctrl-C between two renames,
a backup that cannot be put back, a nested block that fails), and a bare ``--json`` written before
the positional arguments of ``reconcile``, ``status`` and ``diff``.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from cascadebook.atomic import OutputError, all_or_nothing, staged, write_text_atomic
from cascadebook.cli import cli
from conftest import ROOT

SAMPLES = ROOT / "samples"
NAMES = ("a.txt", "b.txt", "c.txt")


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def interrupt_replace(monkeypatch, at: int, *, after: bool, exc: BaseException | None = None) -> list[tuple]:
    """Make the ``at``-th call of ``os.replace`` raise ``exc`` (Ctrl-C by default): instead of
    renaming, or (``after``) just after the rename was done, as a signal arriving between two
    statements does. Returns every call made."""
    real = os.replace
    calls: list[tuple] = []

    def replace(src, dst, *args, **kwargs):
        calls.append((Path(src).name, Path(dst).name))
        if len(calls) == at:
            if after:
                real(src, dst, *args, **kwargs)
            raise exc if exc is not None else KeyboardInterrupt()
        return real(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", replace)
    return calls


def write_three(folder: Path) -> None:
    with all_or_nothing():
        for name in NAMES:
            write_text_atomic(folder / name, f"new {name}")


@pytest.mark.parametrize("after", [False, True], ids=["instead-of-rename", "after-rename"])
@pytest.mark.parametrize("at", range(1, 7))
def test_ctrl_c_at_any_rename_leaves_every_output_old(tmp_path, monkeypatch, at, after):
    for name in NAMES:
        (tmp_path / name).write_text(f"old {name}")
    calls = interrupt_replace(monkeypatch, at, after=after)
    with pytest.raises(KeyboardInterrupt):
        write_three(tmp_path)
    assert len(calls) >= at  # the interrupt did happen at that rename (each file: aside, then in place)
    assert {n: (tmp_path / n).read_text() for n in NAMES} == {n: f"old {n}" for n in NAMES}
    assert listing(tmp_path) == list(NAMES)  # no .old backup, no .tmp file left behind


@pytest.mark.parametrize("after", [False, True], ids=["instead-of-rename", "after-rename"])
@pytest.mark.parametrize("at", range(1, 6))
def test_ctrl_c_with_a_new_output_removes_it_again(tmp_path, monkeypatch, at, after):
    """c.txt did not exist: after the interrupt it still does not (a and b are old)."""
    for name in NAMES[:2]:
        (tmp_path / name).write_text(f"old {name}")
    interrupt_replace(monkeypatch, at, after=after)
    with pytest.raises(KeyboardInterrupt):
        write_three(tmp_path)
    assert listing(tmp_path) == ["a.txt", "b.txt"]
    assert [(tmp_path / n).read_text() for n in NAMES[:2]] == ["old a.txt", "old b.txt"]


def test_without_interrupt_all_three_are_new_and_no_backup_is_left(tmp_path):
    for name in NAMES:
        (tmp_path / name).write_text(f"old {name}")
    write_three(tmp_path)
    assert {n: (tmp_path / n).read_text() for n in NAMES} == {n: f"new {n}" for n in NAMES}
    assert listing(tmp_path) == list(NAMES)


def test_a_backup_that_cannot_be_put_back_is_an_output_error_naming_it(tmp_path, monkeypatch):
    """b.txt cannot be replaced (open in Excel), and putting a.txt back fails too: one OutputError that
    says where a.txt's old content is; that backup is kept."""
    for name in NAMES:
        (tmp_path / name).write_text(f"old {name}")
    real = os.replace

    def replace(src, dst, *args, **kwargs):
        src, dst = Path(src), Path(dst)
        b_in_place = dst.name == "b.txt" and src.name.endswith(".tmp")
        a_put_back = src.name.startswith(".a.txt.") and dst.name == "a.txt"
        if b_in_place or a_put_back:
            raise PermissionError(13, "Permission denied", str(dst))
        return real(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(OutputError) as caught:
        write_three(tmp_path)
    message = str(caught.value)
    backups = [p for p in tmp_path.iterdir() if p.name.startswith(".a.txt.") and p.name.endswith(".old")]
    assert len(backups) == 1 and backups[0].read_text() == "old a.txt"  # nothing is lost
    assert str(backups[0]) in message and "a.txt" in message and "\n" not in message
    assert "b.txt" in message  # and why the commit failed in the first place
    assert [(tmp_path / n).read_text() for n in ("b.txt", "c.txt")] == ["old b.txt", "old c.txt"]
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_a_backup_that_cannot_be_put_back_after_ctrl_c_is_an_output_error(tmp_path, monkeypatch):
    """Ctrl-C between a.txt's two renames, and the backup cannot be renamed back: an OutputError names it."""
    for name in NAMES:
        (tmp_path / name).write_text(f"old {name}")
    real = os.replace
    calls = []

    def replace(src, dst, *args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            real(src, dst, *args, **kwargs)
            raise KeyboardInterrupt()
        if Path(src).name.startswith(".a.txt."):
            raise PermissionError(13, "Permission denied", str(dst))
        return real(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(OutputError) as caught:
        write_three(tmp_path)
    assert isinstance(caught.value.__cause__, KeyboardInterrupt)
    backup = next(p for p in tmp_path.iterdir() if p.name.startswith(".a.txt."))
    assert backup.read_text() == "old a.txt" and str(backup) in str(caught.value)
    assert "KeyboardInterrupt" in str(caught.value)


def test_a_failed_nested_block_discards_its_own_outputs_only(tmp_path):
    (tmp_path / "kept.txt").write_text("old kept")
    with all_or_nothing():
        write_text_atomic(tmp_path / "outer.txt", "outer")
        write_text_atomic(tmp_path / "kept.txt", "outer version")
        try:
            with all_or_nothing():
                write_text_atomic(tmp_path / "inner.txt", "inner")
                write_text_atomic(tmp_path / "kept.txt", "inner version")
                assert staged(tmp_path / "outer.txt").read_text() == "outer"  # the outer's staged file is seen
                raise ValueError("the inner step failed")
        except ValueError:
            pass
        with all_or_nothing():
            write_text_atomic(tmp_path / "later.txt", "later")
        assert listing(tmp_path) != [] and not (tmp_path / "later.txt").exists()  # joins the outer block
        assert staged(tmp_path / "later.txt").read_text() == "later"
    assert listing(tmp_path) == ["kept.txt", "later.txt", "outer.txt"]  # no inner.txt, no temporary file
    assert (tmp_path / "kept.txt").read_text() == "outer version"
    assert (tmp_path / "outer.txt").read_text() == "outer"


# --- a bare --json before the positional arguments -------------------------------------------------------


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def reconcile_samples(master: Path, returned: Path = SAMPLES / "returned") -> None:
    assert run("reconcile", SAMPLES / "strategy.yaml", returned, "-o", master, "-q").exit_code == 1
    assert openpyxl.load_workbook(master, read_only=True).sheetnames


def test_reconcile_bare_json_first_prints_the_report(tmp_path):
    master = tmp_path / "m.xlsx"
    result = run("reconcile", "--json", SAMPLES / "strategy.yaml", SAMPLES / "returned", "-o", master, "-q")
    assert result.exit_code == 1, result.stderr  # the samples hold errors
    report = json.loads(result.stdout)
    assert report["cycle"] == "FY2027" and report["counts"]["sources"] == 6
    assert master.exists() and listing(tmp_path) == ["m.xlsx"]


def test_reconcile_json_file_still_writes_the_file(tmp_path):
    master, report = tmp_path / "m.xlsx", tmp_path / "r.json"
    result = run("reconcile", "--json", report, SAMPLES / "strategy.yaml", SAMPLES / "returned", "-o", master, "-q")
    assert result.exit_code == 1
    assert json.loads(report.read_text())["counts"]["sources"] == 6
    assert not result.stdout.lstrip().startswith("{")
    result = run("reconcile", SAMPLES / "strategy.yaml", SAMPLES / "returned", "-o", master, "--json=" + str(report))
    assert result.exit_code == 1 and json.loads(report.read_text())["cycle"] == "FY2027"


def test_status_bare_json_first_prints_the_status(tmp_path):
    result = run("status", "--json", SAMPLES / "strategy.yaml", SAMPLES / "returned", "--today", "2027-02-05")
    assert result.exit_code == 0, result.stderr
    status = json.loads(result.stdout)
    assert status["today"] == "2027-02-05" and status["counts"]["late"] == 1
    assert {d["code"] for d in status["departments"]} >= {"FIN"}


def test_diff_bare_json_first_prints_the_diff(tmp_path):
    some = tmp_path / "some"
    some.mkdir()
    shutil.copy(SAMPLES / "returned" / "FY2027_FIN.xlsx", some)
    old, new = tmp_path / "old.xlsx", tmp_path / "new.xlsx"
    assert run("reconcile", SAMPLES / "strategy.yaml", some, "-o", old, "-q").exit_code in (0, 1)
    reconcile_samples(new)
    result = run("diff", "--json", old, new)
    assert result.exit_code == 0, result.stderr
    diff = json.loads(result.stdout)
    assert diff["old"].endswith("old.xlsx") and diff["new"].endswith("new.xlsx")
    assert diff["counts"]["added"] > 0 and len(diff["changes"]) >= diff["counts"]["added"]
    result = run("diff", "--json", tmp_path / "d.json", old, new)  # --json FILE.json keeps its file
    assert result.exit_code == 0 and json.loads((tmp_path / "d.json").read_text()) == diff
    result = run("diff", "--json", "-", old, new)
    assert json.loads(result.stdout) == diff
