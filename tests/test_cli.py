"""The CLI, driven with click's CliRunner: exit codes 0/1/2, the JSON report, help everywhere."""

from __future__ import annotations

import json

import click
import openpyxl
import pytest
from click.testing import CliRunner

from cascadebook.cli import cli
from conftest import ROOT, clean_initiative, clean_kpi


def run(*args: str):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def test_generate_writes_templates_and_a_key(strategy_path, tmp_path):
    result = run("generate", strategy_path, "-o", tmp_path / "outbox", "--department", "MKT", "--department", "HR")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "outbox").iterdir()) == ["FY2027_HR.xlsx", "FY2027_MKT.xlsx"]
    assert (strategy_path.parent / ".cascadebook-key").stat().st_mode & 0o777 == 0o600
    assert "2 template(s) for FY2027" in result.output


def test_generate_unknown_department_is_a_usage_error(strategy_path, tmp_path):
    result = run("generate", strategy_path, "-o", tmp_path, "--department", "NOPE")
    assert result.exit_code == 2
    assert "unknown department code(s): nope" in result.output


def test_reconcile_exit_0_when_clean_with_json_report(strategy_path, fill, returned, tmp_path, key):
    for code in ("MKT", "SAL", "OPS", "RND", "FIN", "HR"):
        fill(
            code,
            rows={
                "initiatives": [clean_initiative("CO1", f"{code} plan", 1, 2)],
                "kpis": [clean_kpi(f"{code}-I01", "A KPI")],
            },
        )
    fill(
        "HR",
        "hr-more.xlsx",
        rows={
            "initiatives": [clean_initiative(o, f"HR for {o}", 1, 2) for o in ("CO2", "CO3", "CO4", "CO6", "CO7")]
            + [clean_initiative("CO5", "Faster hiring", 10, 8)],
            "kpis": [clean_kpi(f"HR-I0{i}", "k") for i in range(1, 7)],
        },
    )
    master, report = tmp_path / "master.xlsx", tmp_path / "report.json"
    result = run("reconcile", strategy_path, returned, "-o", master, "--json", report, "--jobs", "1")
    assert result.exit_code == 0, result.output
    data = json.loads(report.read_text())
    assert data["counts"]["error"] == 0 and data["counts"]["initiatives"] == 11
    assert {s["status"] for s in data["sources"]} == {"accepted", "superseded"}
    assert openpyxl.load_workbook(master).sheetnames[:2] == ["Dashboard", "Summary"]


def test_reconcile_exit_1_on_errors_and_the_master_is_still_written(strategy_path, fill, returned, tmp_path, key):
    fill(
        "MKT",
        rows={
            "initiatives": [
                dict(objective_id="CO9", title="x", expected_impact="y", target="ten", due_period="Q1", owner="me")
            ]
        },
    )
    master, report = tmp_path / "m.xlsx", tmp_path / "r.json"
    result = run("reconcile", strategy_path, returned, "-o", master, "--json", report, "-q")
    assert result.exit_code == 1
    assert master.exists()
    findings = json.loads(report.read_text())["findings"]
    wrong = next(f for f in findings if f["code"] == "wrong-type")
    assert {k: wrong[k] for k in ("severity", "file", "sheet", "cell", "department")} == {
        "severity": "error",
        "file": "returned/MKT.xlsx",
        "sheet": "Initiatives",
        "cell": "H5",
        "department": "MKT",
    }
    assert wrong["hint"].startswith("Type the value as the column expects")


def test_reconcile_exit_2_on_a_broken_strategy(tmp_path, returned):
    bad = tmp_path / "bad.yaml"
    bad.write_text("cycle: FY2027\nobjectives: []\ndepartments: []\n")
    result = run("reconcile", bad, returned, "-o", tmp_path / "m.xlsx")
    assert result.exit_code == 2
    assert "strategy-missing-value" in result.output
    assert not (tmp_path / "m.xlsx").exists()


def test_reconcile_on_the_shipped_samples(tmp_path):
    result = run(
        "reconcile",
        ROOT / "samples" / "strategy.yaml",
        ROOT / "samples" / "returned",
        "-o",
        tmp_path / "master.xlsx",
        "--json",
        tmp_path / "r.json",
    )
    assert result.exit_code == 1  # the Operations sample carries typical mistakes on purpose
    data = json.loads((tmp_path / "r.json").read_text())
    assert {f["code"] for f in data["findings"] if f["severity"] == "error"} == {
        "unknown-objective",
        "period-outside-cycle",
        "required-missing",
        "wrong-type",
        "untitled-initiative",
    }
    assert {f["department"] for f in data["findings"] if f["severity"] == "error"} == {"OPS"}
    assert not [f for f in data["findings"] if f["code"] == "signature-unverified"]  # the demo key is shipped


def _commands(group: click.Group, prefix=()):
    for name, command in group.commands.items():
        yield prefix + (name,), command
        if isinstance(command, click.Group):
            yield from _commands(command, prefix + (name,))


@pytest.mark.parametrize("path", [p for p, _ in _commands(cli)], ids=" ".join)
def test_every_command_has_help_and_is_in_the_readme(path):
    command = dict(_commands(cli))[path]
    assert command.help and len(command.help) > 20
    result = run(*path, "--help")
    assert result.exit_code == 0
    readme = (ROOT / "README.md").read_text()
    assert f"cascadebook {' '.join(path)}" in readme


def test_readme_findings_table_is_generated_from_the_catalogue():
    from cascadebook.findings import catalogue_markdown

    readme = (ROOT / "README.md").read_text()
    table = readme.split("<!-- findings:start -->")[1].split("<!-- findings:end -->")[0].strip()
    assert table == catalogue_markdown(), "run: python scripts/update_readme.py"


def test_init_writes_a_strategy_that_generates(tmp_path):
    result = run("init", tmp_path / "cycle")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "cycle" / "strategy.yaml").read_text() == (ROOT / "samples" / "strategy.yaml").read_text()
    assert (tmp_path / "cycle" / "department.yaml").exists()
    result = run(
        "generate",
        tmp_path / "cycle" / "strategy.yaml",
        "-o",
        tmp_path / "cycle" / "outbox",
        "--spec",
        tmp_path / "cycle" / "department.yaml",
    )
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "cycle" / "outbox").glob("*.xlsx"))) == 6
    assert "kept existing" in run("init", tmp_path / "cycle").output
