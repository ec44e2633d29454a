"""Issue 15, items 6, 7 and 11 (CLI): outputs that cannot be written, findings listed as a linter does,
`--json -`, `-o` suffixes, the skipped-files count, `export` of a strategy, generate's progress.

Outputs that cannot be written are simulated so that the test holds as root too (CI runs as root,
where a read-only file can still be written): a parent that is a file, a folder where a file should
go, and Windows' behaviour for a workbook open in Excel (opening it for writing, renaming it or
renaming onto it raises PermissionError).
"""

from __future__ import annotations

import builtins
import json
import os
import re
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from cascadebook import generate
from cascadebook.cli import cli
from cascadebook.findings import Finding, finding_lines, format_finding_line
from conftest import ROOT, clean_initiative, clean_kpi

LINE = re.compile(
    r"^(?P<file>[^:]+): (?P<sheet>[A-Za-z ]+)!(?P<cell>[A-Z]+\d+): (?P<severity>error|warning) "
    r"(?P<code>[a-z-]+): (?P<message>.+)$"
)


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def excel_holds(monkeypatch, *held: Path, from_start: bool = True) -> list[str]:
    """Behave as Windows does while Excel has ``held`` open: the file cannot be opened for writing,
    renamed or replaced. ``from_start=False``: only the renames fail, as when Excel opens the file
    after the tool checked it. Returns the refused operations, to check the tool tried them."""
    held_paths = {os.path.abspath(p) for p in held}
    refused: list[str] = []
    real_replace, real_open = os.replace, builtins.open

    def replace(src, dst, *args, **kwargs):
        for p in (src, dst):
            if os.path.abspath(p) in held_paths:
                refused.append(f"replace {Path(p).name}")
                raise PermissionError(
                    13, "The process cannot access the file because it is being used by another process", str(p)
                )
        return real_replace(src, dst, *args, **kwargs)

    def open_(file, mode="r", *args, **kwargs):
        if isinstance(file, (str, Path)) and os.path.abspath(file) in held_paths and set(mode) & set("wa+"):
            refused.append(f"open {Path(file).name}")
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr(os, "replace", replace)
    if from_start:
        monkeypatch.setattr(builtins, "open", open_)
    return refused


def one_error_line(result) -> str:
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert lines[0].startswith("Error: ")
    return lines[0]


@pytest.fixture
def cycle(strategy_path, fill, returned, key, tmp_path):
    """Three departments returned (one with errors), an old master and report already written."""
    fill(
        "MKT",
        rows={"initiatives": [clean_initiative("CO1", "MKT plan", 1, 2)], "kpis": [clean_kpi("MKT-I01", "A KPI")]},
    )
    fill("SAL", rows={"initiatives": [clean_initiative("CO2", "SAL plan", 1, 2)]})  # no KPI: a warning
    fill(
        "OPS",
        rows={
            "initiatives": [
                dict(objective_id="CO9", title="x", expected_impact="y", target="ten", due_period="Q1", owner="me")
            ]
        },
    )
    out = tmp_path / "out"
    out.mkdir()
    master, report = out / "master.xlsx", out / "report.json"
    first = run("reconcile", strategy_path, returned, "-o", master, "--json", report, "-q")
    assert first.exit_code == 1, first.output
    return master, report


# ------------------------------------------------------------------------------------ item 6: outputs


def test_master_open_in_excel_is_said_before_reading_and_nothing_changes(
    cycle, strategy_path, returned, fill, monkeypatch
):
    master, report = cycle
    before = master.read_bytes(), report.read_bytes()
    fill("FIN", rows={"initiatives": [clean_initiative("CO4", "FIN plan", 1, 2)]})  # a new return since
    refused = excel_holds(monkeypatch, master)
    import sys

    def not_reached(*a, **k):
        raise AssertionError("the workbooks were read although the master cannot be written")

    monkeypatch.setattr(sys.modules["cascadebook.pipeline"], "reconcile", not_reached)
    result = run("reconcile", strategy_path, returned, "-o", master, "--json", report)
    assert result.exit_code == 2
    line = one_error_line(result)
    assert str(master) in line and "close it in Excel" in line
    assert refused == ["open master.xlsx"]
    assert (master.read_bytes(), report.read_bytes()) == before
    assert listing(master.parent) == ["master.xlsx", "report.json"]


def test_master_locked_when_it_is_replaced_leaves_old_master_and_old_report(
    cycle, strategy_path, returned, fill, monkeypatch
):
    master, report = cycle
    before = master.read_bytes(), report.read_bytes()
    fill("FIN", rows={"initiatives": [clean_initiative("CO4", "FIN plan", 1, 2)]})
    refused = excel_holds(monkeypatch, master, from_start=False)
    result = run("reconcile", strategy_path, returned, "-o", master, "--json", report, "-q")
    assert result.exit_code == 2
    line = one_error_line(result)
    assert str(master) in line and "close it in Excel" in line
    assert "replace master.xlsx" in refused
    assert (master.read_bytes(), report.read_bytes()) == before  # no new report beside the old master
    assert listing(master.parent) == ["master.xlsx", "report.json"]  # no temporary or backup file left
    assert not [s for s in json.loads(report.read_text())["sources"] if s["file"].endswith("FIN.xlsx")]


def test_report_that_cannot_be_replaced_keeps_the_old_master(cycle, strategy_path, returned, fill, monkeypatch):
    master, report = cycle
    before = master.read_bytes(), report.read_bytes()
    fill("FIN", rows={"initiatives": [clean_initiative("CO4", "FIN plan", 1, 2)]})
    excel_holds(monkeypatch, report, from_start=False)
    result = run("reconcile", strategy_path, returned, "-o", master, "--json", report, "-q")
    assert result.exit_code == 2
    assert str(report) in one_error_line(result)
    assert (master.read_bytes(), report.read_bytes()) == before  # the master was put back as it was
    assert listing(master.parent) == ["master.xlsx", "report.json"]
    departments = {
        row[0]
        for row in openpyxl.load_workbook(master, read_only=True)["Initiatives"].iter_rows(min_row=2, values_only=True)
    }
    assert "FIN" not in departments and "MKT" in departments


def test_first_run_with_an_unwritable_report_creates_no_master(strategy_path, fill, returned, tmp_path, monkeypatch):
    fill("MKT", rows={"initiatives": [clean_initiative("CO1", "MKT plan", 1, 2)]})
    report = tmp_path / "report.json"
    report.mkdir()  # a folder where the report should go
    result = run("reconcile", strategy_path, returned, "-o", tmp_path / "master.xlsx", "--json", report)
    assert result.exit_code == 2
    line = one_error_line(result)
    assert str(report) in line and "it is a folder" in line
    assert not (tmp_path / "master.xlsx").exists()


def test_master_under_a_file_is_one_line(strategy_path, fill, returned, tmp_path):
    fill("MKT")
    (tmp_path / "notes").write_text("not a folder")
    result = run("reconcile", strategy_path, returned, "-o", tmp_path / "notes" / "master.xlsx")
    assert result.exit_code == 2
    line = one_error_line(result)
    assert "notes is a file, not a folder" in line and "master.xlsx" in line
    assert (tmp_path / "notes").read_text() == "not a folder"


def test_generate_with_one_template_open_in_excel_changes_no_template(strategy_path, tmp_path, monkeypatch):
    outbox = tmp_path / "outbox"
    assert run("generate", strategy_path, "-o", outbox, "-q").exit_code == 0
    before = {p.name: (p.stat().st_ino, p.read_bytes()) for p in outbox.iterdir()}
    refused = excel_holds(
        monkeypatch, outbox / "FY2027_OPS.xlsx", from_start=False
    )  # a middle one: MKT comes before it
    result = run("generate", strategy_path, "-o", outbox, "-q")
    assert result.exit_code == 2
    line = one_error_line(result)
    assert "FY2027_OPS.xlsx" in line and "close it in Excel" in line
    assert refused
    assert {p.name: (p.stat().st_ino, p.read_bytes()) for p in outbox.iterdir()} == before  # no mix of old and new


def test_generate_checks_the_templates_before_writing_any(strategy_path, tmp_path, monkeypatch):
    outbox = tmp_path / "outbox"
    assert run("generate", strategy_path, "-o", outbox, "--department", "SAL", "-q").exit_code == 0
    excel_holds(monkeypatch, outbox / "FY2027_SAL.xlsx")
    result = run("generate", strategy_path, "-o", outbox, "-q")
    assert result.exit_code == 2 and "FY2027_SAL.xlsx" in one_error_line(result)
    assert listing(outbox) == ["FY2027_SAL.xlsx"]


@pytest.fixture
def master_file(tmp_path):
    master = tmp_path / "master.xlsx"
    assert (
        run(
            "reconcile", ROOT / "samples" / "strategy.yaml", ROOT / "samples" / "returned", "-o", master, "-q"
        ).exit_code
        == 1
    )
    return master


def test_export_with_a_csv_open_in_excel_changes_nothing(master_file, tmp_path, monkeypatch):
    out = tmp_path / "export"
    assert run("export", master_file, "-o", out).exit_code == 0
    before = {p.name: (p.stat().st_ino, p.read_bytes()) for p in out.iterdir()}
    excel_holds(monkeypatch, out / "kpis.csv", from_start=False)
    result = run("export", master_file, "-o", out)
    assert result.exit_code == 2 and "kpis.csv" in one_error_line(result)
    assert {p.name: (p.stat().st_ino, p.read_bytes()) for p in out.iterdir()} == before


@pytest.mark.parametrize(
    "command", ["init", "generate", "checkin", "export", "collect", "feedback", "status", "send", "diff"]
)
def test_every_writing_command_says_an_output_under_a_file_in_one_line(command, master_file, tmp_path):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file")
    where = blocker / "sub"
    strategy, returned = ROOT / "samples" / "strategy.yaml", ROOT / "samples" / "returned"
    args = {
        "init": ["init", where],
        "generate": ["generate", strategy, "-o", where],
        "checkin": ["checkin", master_file, "-s", strategy, "-p", "Q2", "-o", where],
        "export": ["export", master_file, "-o", where],
        "collect": ["collect", returned, "-o", where],
        "feedback": ["feedback", strategy, returned, "-o", where],
        "status": ["status", strategy, returned, "--remind", where],
        "send": ["send", strategy, returned, "--eml", where],
        "diff": ["diff", master_file, master_file, "-o", where / "diff.xlsx"],
    }[command]
    result = run(*args)
    assert result.exit_code == 2, result.output
    line = one_error_line(result)
    assert "blocker" in line and "is a file, not a folder" in line
    assert blocker.read_text() == "a file"


def test_status_reminders_and_json_file_are_written_together(tmp_path):
    strategy, returned = ROOT / "samples" / "strategy.yaml", ROOT / "samples" / "returned"
    reminders, report = tmp_path / "reminders", tmp_path / "status.json"
    result = run("status", strategy, returned, "--remind", reminders, "--json", report)
    assert result.exit_code == 0, result.output
    data = json.loads(report.read_text())
    assert data["reminders"] == [str(reminders / "FY2027_HR reminder.eml")]
    assert listing(reminders) == ["FY2027_HR reminder.eml"]
    assert "HR" in result.output and f"wrote {report}" in result.output  # the table is still shown


# ------------------------------------------------------------------------ item 7: findings as a linter


def test_errors_listed_one_per_line_capped_and_warnings_with_v(strategy_path, fill, returned, tmp_path):
    bad = [
        dict(objective_id="CO9", title=f"Plan {i}", expected_impact="y", target="ten", due_period="Q9")
        for i in range(12)
    ]
    fill("MKT", rows={"initiatives": bad})
    fill("OPS", rows={"initiatives": bad})
    fill("SAL", rows={"initiatives": [clean_initiative("CO2", "SAL plan", 1, 2)]})  # a warning: no KPI
    report = tmp_path / "r.json"
    result = run("reconcile", strategy_path, returned, "-o", tmp_path / "m.xlsx", "--json", report)
    assert result.exit_code == 1
    findings = json.loads(report.read_text())["findings"]
    errors = [f for f in findings if f["severity"] == "error"]
    assert len(errors) > 50
    err = result.stderr.splitlines()
    listed = [m.groupdict() for m in map(LINE.match, err) if m]
    assert len(listed) == 50 and {d["severity"] for d in listed} == {"error"}
    assert f"… and {len(errors) - 50} more (see the master's Findings sheet)" in err
    assert err.index(f"… and {len(errors) - 50} more (see the master's Findings sheet)") > err.index(
        next(line for line in err if LINE.match(line))
    )
    by_place = {(f["file"], f["sheet"], f["cell"], f["code"]): f["message"] for f in errors}
    for d in listed:  # each line is one finding of the report, in the linter's shape
        assert by_place[(d["file"], d["sheet"], d["cell"], d["code"])] == d["message"]
    assert [d["file"] for d in listed] == sorted(d["file"] for d in listed)  # grouped by file
    assert any(
        d["file"] == "returned/MKT.xlsx" and d["code"] == "unknown-objective" and d["cell"] == "B5" for d in listed
    )
    assert " warning " not in result.stderr
    assert "20 error(s)" not in result.stderr and "department(s)" not in result.stdout

    sal = returned / "SAL.xlsx"
    quiet = run("reconcile", strategy_path, sal, "-o", tmp_path / "m.xlsx", "-q")
    verbose = run("reconcile", strategy_path, sal, "-o", tmp_path / "m.xlsx", "-v", "-q")
    assert quiet.exit_code == verbose.exit_code == 0
    assert quiet.stderr == ""  # no error, no table, no line
    assert "SAL.xlsx: Initiatives!A5: warning initiative-without-kpis: SAL-I01 has nothing" in verbose.stderr
    assert "Department" not in verbose.stderr  # -q: no table


def test_finding_lines_format_order_and_cap():
    findings = [
        Finding("wrong-type", "Target should be a number", file="b.xlsx", sheet="KPIs", cell="H6", department="B"),
        Finding(
            "initiative-without-kpis", "I01 has nothing", file="a.xlsx", sheet="Initiatives", cell="A5", department="A"
        ),
        Finding(
            "required-missing", "Owner is required", file="a.xlsx", sheet="Initiatives", cell="J10", department="A"
        ),
        Finding("required-missing", "Owner is required", file="a.xlsx", sheet="Initiatives", cell="J9", department="A"),
        Finding("objective-uncovered", "no initiative against CO7", sheet="Objectives"),
    ]
    assert format_finding_line(findings[0]) == "b.xlsx: KPIs!H6: error wrong-type: Target should be a number"
    assert finding_lines(findings) == [
        "a.xlsx: Initiatives!J9: error required-missing: Owner is required",
        "a.xlsx: Initiatives!J10: error required-missing: Owner is required",
        "b.xlsx: KPIs!H6: error wrong-type: Target should be a number",
    ]
    assert finding_lines(findings, ("error", "warning"), cap=4) == [
        "a.xlsx: Initiatives!J9: error required-missing: Owner is required",
        "a.xlsx: Initiatives!J10: error required-missing: Owner is required",
        "b.xlsx: KPIs!H6: error wrong-type: Target should be a number",
        "Objectives: warning objective-uncovered: no initiative against CO7",
        "… and 1 more (see the master's Findings sheet)",
    ]


def test_reconcile_json_to_stdout(cycle, strategy_path, returned, tmp_path):
    _master, report = cycle
    for spelling in (["--json", "-"], ["--json"]):
        result = run("reconcile", strategy_path, returned, "-o", tmp_path / "m2.xlsx", *spelling)
        assert result.exit_code == 1
        data = json.loads(result.stdout)  # standard output carries only the JSON
        old = json.loads(report.read_text())
        assert data["findings"] == old["findings"] and data["counts"] == old["counts"]
        assert f"wrote {tmp_path / 'm2.xlsx'}" in result.stderr and "error wrong-type" in result.stderr
        assert not (tmp_path / "-").exists()


def test_status_and_diff_json_spellings(master_file, tmp_path):
    strategy, returned = ROOT / "samples" / "strategy.yaml", ROOT / "samples" / "returned"
    dash = run("status", strategy, returned, "--json", "-", "--today", "2027-02-05")
    bare = run("status", strategy, returned, "--today", "2027-02-05", "--json")
    to_file = run("status", strategy, returned, "--today", "2027-02-05", "--json", tmp_path / "s.json")
    assert dash.exit_code == bare.exit_code == to_file.exit_code == 0
    assert json.loads(dash.stdout) == json.loads(bare.stdout) == json.loads((tmp_path / "s.json").read_text())
    assert json.loads(dash.stdout)["counts"]["returned with errors"] == 1

    diff_dash = run("diff", master_file, master_file, "--json", "-")
    diff_file = run("diff", master_file, master_file, "--json", tmp_path / "d.json")
    assert diff_dash.exit_code == diff_file.exit_code == 0
    assert json.loads(diff_dash.stdout) == json.loads((tmp_path / "d.json").read_text())
    assert json.loads(diff_dash.stdout)["changes"] == []
    assert "No changes" in diff_file.stdout  # with a file, the table is still printed


def test_json_to_a_workbook_name_is_refused_so_no_master_is_overwritten(master_file, tmp_path):
    before = master_file.read_bytes()
    result = run("diff", f"--json={master_file}", master_file, master_file)
    assert result.exit_code == 2
    assert ".json" in one_error_line(result)
    assert master_file.read_bytes() == before
    # `--json master.xlsx` (a name not ending in .json) is a bare --json: the name is an argument, here one too many
    result = run("diff", "--json", master_file, master_file, master_file)
    assert result.exit_code == 2 and "unexpected extra argument" in result.output
    assert master_file.read_bytes() == before


# -------------------------------------------------------------------------------------- item 11 bits


@pytest.mark.parametrize("command", ["reconcile", "diff"])
def test_o_with_a_csv_name_is_refused(command, master_file, tmp_path):
    strategy, returned = ROOT / "samples" / "strategy.yaml", ROOT / "samples" / "returned"
    args = (
        ["reconcile", strategy, returned, "-o", tmp_path / "m.csv"]
        if command == "reconcile"
        else ["diff", master_file, master_file, "-o", tmp_path / "m.csv"]
    )
    result = run(*args)
    assert result.exit_code == 2
    line = one_error_line(result)
    assert "m.csv" in line and "ending in .xlsx" in line
    assert not (tmp_path / "m.csv").exists()


def test_summary_counts_workbooks_read_and_skipped_files_apart(strategy_path, fill, returned, tmp_path):
    fill("MKT")
    fill("SAL")
    (returned / "notes.txt").write_text("call Sales on Monday")
    (returned / "~$MKT.xlsx").write_bytes(b"lock")  # Excel's lock file while MKT.xlsx is open
    result = run("reconcile", strategy_path, returned, "-o", tmp_path / "m.xlsx")
    assert "FY2027: 2 workbook(s) read, 2 other file(s) skipped" in result.stderr
    clean = run("reconcile", strategy_path, returned / "MKT.xlsx", "-o", tmp_path / "m.xlsx")
    assert "FY2027: 1 workbook(s) read\n" in clean.stderr or "FY2027: 1 workbook(s) read " in clean.stderr


def test_export_of_a_strategy_says_what_to_give(tmp_path, strategy_path):
    result = run("export", strategy_path, "-o", tmp_path / "export")
    assert result.exit_code == 2
    line = one_error_line(result)
    assert "strategy.yaml is a strategy, not a master" in line and "master.xlsx" in line
    assert "None" not in line
    other = tmp_path / "list.yaml"
    other.write_text("- a\n- b\n")
    line = one_error_line(run("export", other, "-o", tmp_path / "export"))
    assert "list.yaml is not a master workbook or a cascadebook export" in line and "None" not in line
    assert not (tmp_path / "export").exists()


def test_generate_reports_progress_per_department(strategy, key, tmp_path, strategy_path):
    calls = []
    paths = generate(strategy, tmp_path / "outbox", key=key, progress=lambda *a: calls.append(a))
    codes = sorted(d.code for d in strategy.departments)
    assert calls == [(i, len(codes), code) for i, code in enumerate(codes, 1)]
    assert [p.name for p in paths] == [f"FY2027_{c}.xlsx" for c in codes]
    shown = run("generate", strategy_path, "-o", tmp_path / "again")
    quiet = run("generate", strategy_path, "-o", tmp_path / "quiet", "-q")
    assert shown.exit_code == quiet.exit_code == 0
    assert listing(tmp_path / "again") == listing(tmp_path / "quiet") == [p.name for p in paths]


def test_readme_quick_start_makes_a_virtual_environment():
    readme = (ROOT / "README.md").read_text()
    quick = readme.split("## Quick start")[1].split("## ")[0]
    assert "python3 -m venv .venv" in quick and ". .venv/bin/activate" in quick
    assert "pip install -e . && cascadebook reconcile samples/strategy.yaml samples/returned -o master.xlsx" in quick
    assert "pip install -e '.[test]' && python -m pytest" in quick


def test_all_or_nothing_writes_every_output_at_the_end_or_none(tmp_path):
    from cascadebook.atomic import all_or_nothing, write_text_atomic

    (tmp_path / "a.txt").write_text("old a")
    with pytest.raises(RuntimeError), all_or_nothing():
        write_text_atomic(tmp_path / "a.txt", "new a")
        write_text_atomic(tmp_path / "sub" / "b.txt", "new b")
        assert (tmp_path / "a.txt").read_text() == "old a"  # nothing is in place before the end
        raise RuntimeError("the report failed")
    assert (tmp_path / "a.txt").read_text() == "old a" and not (tmp_path / "sub" / "b.txt").exists()
    assert listing(tmp_path) == ["a.txt", "sub"] and listing(tmp_path / "sub") == []  # no temporary file
    with all_or_nothing():
        write_text_atomic(tmp_path / "a.txt", "new a")
        write_text_atomic(tmp_path / "sub" / "b.txt", "new b")
    assert (tmp_path / "a.txt").read_text() == "new a" and (tmp_path / "sub" / "b.txt").read_text() == "new b"
    assert listing(tmp_path) == ["a.txt", "sub"] and listing(tmp_path / "sub") == ["b.txt"]


def test_feedback_with_a_copy_open_in_excel_changes_no_copy_and_no_reply(tmp_path, monkeypatch):
    strategy, returned = ROOT / "samples" / "strategy.yaml", ROOT / "samples" / "returned"
    out = tmp_path / "feedback"
    first = run("feedback", strategy, returned, "-o", out)
    assert first.exit_code == 0, first.output
    before = {p.name: (p.stat().st_ino, p.read_bytes()) for p in out.iterdir()}
    assert sorted(before) == ["FY2027_OPS - to fix.eml", "FY2027_OPS - to fix.xlsx"]
    # the reply is put in place after the copy: when it cannot be, the new copy is taken back
    refused = excel_holds(monkeypatch, out / "FY2027_OPS - to fix.eml", from_start=False)
    result = run("feedback", strategy, returned, "-o", out)
    assert result.exit_code == 2
    line = one_error_line(result)
    assert "FY2027_OPS - to fix.eml" in line and refused == ["replace FY2027_OPS - to fix.eml"]
    assert {p.name: (p.stat().st_ino, p.read_bytes()) for p in out.iterdir()} == before
