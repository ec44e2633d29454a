"""Issue 15, items 4, 5 and two of 11: the cycle folder's own spec is used, misspelt keys are errors.

Every test starts from `cascadebook init`, edits files the way a person would (text editor on the
YAML, openpyxl on the workbooks) and runs the CLI without --spec.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from cascadebook.cli import cli
from cascadebook.template.department import HEADER_ROW

RISK = (
    '      - {key: risk, header: Risk, type: choice, choices: [Low, Medium, High], width: 10,\n'
    '         help: "How likely the initiative misses its target."}\n'
)
METRIC = '      - {key: metric, header: Metric, type: text, width: 16, help: "What is measured."}\n'


def run(*args: str, code: int | None = 0):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    if code is not None:
        assert result.exit_code == code, result.output
    return result


@pytest.fixture
def cycle(tmp_path: Path) -> Path:
    folder = tmp_path / "cycle"
    run("init", folder)
    return folder


def edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def add_risk_and_rename(spec: Path, version: str | None = None) -> None:
    """What a strategy office does in its editor: a Risk column, 'Expected impact' renamed."""
    edit(spec, METRIC, RISK + METRIC)  # the first Metric line is the Initiatives sheet's
    edit(spec, "{key: expected_impact, header: Expected impact,", "{key: expected_impact, header: Expected result,")
    if version:
        edit(spec, 'version: "1.0"', f'version: "{version}"')


def headers(ws) -> dict[str, int]:
    return {str(c.value).replace("*", "").strip(): c.column for c in ws[HEADER_ROW] if c.value}


def fill(template: Path, target: Path, initiatives: list[dict], kpis: list[dict]) -> Path:
    """Type rows under the headers a person sees (whatever columns the spec gave the template)."""
    book = openpyxl.load_workbook(template)
    for title, rows in (("Initiatives", initiatives), ("KPIs", kpis)):
        ws = book[title]
        where = headers(ws)
        for r, row in enumerate(rows, HEADER_ROW + 1):
            for header, value in row.items():
                ws.cell(row=r, column=where[header], value=value)
    target.parent.mkdir(parents=True, exist_ok=True)
    book.save(target)
    return target


def initiative(objective: str, title: str, **extra) -> dict:
    row = {
        "Objective": objective,
        "Initiative": title,
        "Metric": "Leads",
        "Unit": "count",
        "Baseline": 10,
        "Target": 20,
        "Due period": "Q3",
        "Owner": "Priya Raman",
    }
    row.update(extra)
    return row


def kpi(initiative_id: str, name: str) -> dict:
    return {
        "Initiative ID": initiative_id,
        "Level": "Team",
        "Team": "Demand",
        "Owner": "Sam Lee",
        "KPI": name,
        "Unit": "count",
        "Baseline": 1,
        "Target": 5,
        "Frequency": "Monthly",
        "Due period": "Q4",
    }


def master_rows(master: Path, sheet: str = "Initiatives") -> tuple[list[str], dict[str, dict]]:
    ws = openpyxl.load_workbook(master, read_only=True)[sheet]
    rows = list(ws.iter_rows(values_only=True))
    head = list(rows[0])
    return head, {r[head.index("Initiative ID")]: dict(zip(head, r)) for r in rows[1:] if r[0] is not None}


def findings(report: Path) -> list[dict]:
    return json.loads(report.read_text())["findings"]


# ---- item 4: the spec `init` writes is the one used -------------------------------------------------


def test_edited_cycle_spec_is_used_by_generate_and_reconcile_without_spec(cycle: Path):
    add_risk_and_rename(cycle / "department.yaml")
    run("generate", cycle / "strategy.yaml", "-o", cycle / "outbox")
    template = cycle / "outbox" / "FY2027_MKT.xlsx"
    assert {"Risk", "Expected result"} <= set(headers(openpyxl.load_workbook(template)["Initiatives"]))

    fill(
        template,
        cycle / "returned" / "marketing plan.xlsx",
        [
            initiative("CO1", "Trade-show circuit", **{"Expected result": "40 enterprise leads", "Risk": "High"}),
            initiative("CO3", "Brand survey push", **{"Expected result": "awareness +5 points", "Risk": "Low"}),
        ],
        [kpi("MKT-I01", "Leads"), kpi("MKT-I02", "Survey reach")],
    )
    result = run(
        "reconcile",
        cycle / "strategy.yaml",
        cycle / "returned",
        "-o",
        cycle / "master.xlsx",
        "--json",
        cycle / "report.json",
        "-q",
        code=None,
    )
    assert result.exit_code in (0, 1), result.output

    head, rows = master_rows(cycle / "master.xlsx")
    assert "Risk" in head and "Expected result" in head
    assert rows["MKT-I01"]["Risk"] == "High" and rows["MKT-I02"]["Risk"] == "Low"
    assert rows["MKT-I01"]["Expected result"] == "40 enterprise leads"
    mkt = [
        (f["code"], f["message"])
        for f in findings(cycle / "report.json")
        if f["file"] == "returned/marketing plan.xlsx" or f["department"] == "MKT"
    ]
    assert not [m for m in mkt if m[0] in ("extra-column", "missing-column", "spec-mismatch", "rows-not-taken")], mkt


def test_strategy_names_its_spec_and_explicit_spec_wins(cycle: Path, tmp_path: Path):
    custom = cycle / "plans spec.yaml"
    shutil.copyfile(cycle / "department.yaml", custom)
    add_risk_and_rename(custom, version="7.0")
    edit(cycle / "strategy.yaml", "cycle: FY2027\n", "cycle: FY2027\nspec: plans spec.yaml\n")
    run("generate", cycle / "strategy.yaml", "-o", cycle / "outbox", "--department", "MKT")
    book = openpyxl.load_workbook(cycle / "outbox" / "FY2027_MKT.xlsx")
    assert "Risk" in headers(book["Initiatives"])
    meta = {r[0]: r[1] for r in book["_cascadebook"].iter_rows(values_only=True)}
    assert meta["spec_version"] == "7.0"

    run("generate", cycle / "strategy.yaml", "-o", tmp_path / "bundled", "--department", "MKT", "--spec", "department")
    assert "Risk" not in headers(openpyxl.load_workbook(tmp_path / "bundled" / "FY2027_MKT.xlsx")["Initiatives"])

    edit(cycle / "strategy.yaml", "spec: plans spec.yaml\n", "spec: gone.yaml\n")
    result = run("generate", cycle / "strategy.yaml", "-o", tmp_path / "x", code=2)
    assert "gone.yaml" in result.output and "Traceback" not in result.output


def test_return_of_an_older_spec_version_is_read_with_that_spec(cycle: Path):
    """Templates went out with department@1.1 (with Risk); the office then moved department.yaml to
    2.0 (Owner renamed 'Accountable', Risk dropped) and kept the old one beside it."""
    add_risk_and_rename(cycle / "department.yaml", version="1.1")
    run("generate", cycle / "strategy.yaml", "-o", cycle / "outbox", "--department", "MKT")
    shutil.copyfile(cycle / "department.yaml", cycle / "department-1.1.yaml")
    edit(cycle / "department.yaml", 'version: "1.1"', 'version: "2.0"')
    edit(cycle / "department.yaml", RISK, "")
    edit(cycle / "department.yaml", "{key: owner, header: Owner,", "{key: owner, header: Accountable,")

    fill(
        cycle / "outbox" / "FY2027_MKT.xlsx",
        cycle / "returned" / "MKT.xlsx",
        [
            initiative("CO1", "Trade-show circuit", **{"Expected result": "40 leads", "Risk": "High"}),
            initiative("CO3", "Brand survey push", **{"Expected result": "awareness +5", "Risk": "Medium"}),
        ],
        [kpi("MKT-I01", "Leads"), kpi("MKT-I02", "Survey reach")],
    )
    run(
        "reconcile",
        cycle / "strategy.yaml",
        cycle / "returned",
        "-o",
        cycle / "master.xlsx",
        "--json",
        cycle / "report.json",
        "-q",
        code=None,
    )

    head, rows = master_rows(cycle / "master.xlsx")
    assert "Accountable" in head and "Risk" not in head  # the master follows the spec in use (2.0)
    assert rows["MKT-I01"]["Accountable"] == "Priya Raman"  # read by the 1.1 header 'Owner'
    assert rows["MKT-I02"]["Initiative"] == "Brand survey push"
    found = findings(cycle / "report.json")
    codes = {f["code"] for f in found if f["department"] == "MKT"}
    assert not codes & {"missing-column", "spec-mismatch", "rows-not-taken"}, codes
    # Risk is in 1.1 but not in 2.0: not silently thinned, named with its rows
    risk = [f for f in found if f["code"] == "spec-column-not-in-master"]
    assert len(risk) == 1 and risk[0]["severity"] == "warning"
    assert "'Risk'" in risk[0]["message"] and "department@1.1" in risk[0]["message"]
    assert "department@2.0" in risk[0]["message"] and risk[0]["rows"] == [HEADER_ROW + 1, HEADER_ROW + 2]


def test_return_whose_spec_is_nowhere_is_refused_naming_both(cycle: Path, tmp_path: Path):
    elsewhere = tmp_path / "elsewhere" / "department.yaml"
    elsewhere.parent.mkdir()
    shutil.copyfile(cycle / "department.yaml", elsewhere)
    add_risk_and_rename(elsewhere, version="3.0")
    run("generate", cycle / "strategy.yaml", "-o", cycle / "outbox", "--department", "MKT", "--spec", elsewhere)
    fill(
        cycle / "outbox" / "FY2027_MKT.xlsx",
        cycle / "returned" / "MKT.xlsx",
        [initiative("CO1", "Trade-show circuit", **{"Expected result": "40 leads", "Risk": "High"})],
        [kpi("MKT-I01", "Leads")],
    )
    result = run(
        "reconcile",
        cycle / "strategy.yaml",
        cycle / "returned",
        "-o",
        cycle / "master.xlsx",
        "--json",
        cycle / "report.json",
        "-q",
        code=1,
    )
    assert "Traceback" not in result.output

    found = findings(cycle / "report.json")
    refused = [f for f in found if f["code"] == "spec-mismatch"]
    assert len(refused) == 1 and refused[0]["severity"] == "error" and refused[0]["file"] == "returned/MKT.xlsx"
    assert "department@3.0" in refused[0]["message"] and "department@1.0" in refused[0]["message"]
    sources = json.loads((cycle / "report.json").read_text())["sources"]
    assert [s["status"] for s in sources if s["file"] == "returned/MKT.xlsx"] == ["rejected"]
    not_taken = [f for f in found if f["code"] == "rows-not-taken" and f["sheet"] == "Initiatives"]
    assert not_taken and not_taken[0]["rows"] == [HEADER_ROW + 1]  # the row is named, not lost
    _, rows = master_rows(cycle / "master.xlsx")
    assert "MKT-I01" not in rows

    # with the spec put beside the strategy, the same return is taken
    shutil.copyfile(elsewhere, cycle / "department-3.0.yaml")
    run(
        "reconcile",
        cycle / "strategy.yaml",
        cycle / "returned",
        "-o",
        cycle / "master.xlsx",
        "--json",
        cycle / "report.json",
        "-q",
        code=None,
    )
    assert not [f for f in findings(cycle / "report.json") if f["code"] in ("spec-mismatch", "rows-not-taken")]
    _, rows = master_rows(cycle / "master.xlsx")
    assert rows["MKT-I01"]["Initiative"] == "Trade-show circuit"


def test_status_and_checkin_use_the_cycle_spec(cycle: Path):
    add_risk_and_rename(cycle / "department.yaml")
    run("generate", cycle / "strategy.yaml", "-o", cycle / "outbox", "--department", "MKT")
    fill(
        cycle / "outbox" / "FY2027_MKT.xlsx",
        cycle / "returned" / "MKT.xlsx",
        [initiative("CO1", "Trade-show circuit", **{"Expected result": "40 leads", "Risk": "High"})],
        [kpi("MKT-I01", "Leads")],
    )
    status = json.loads(run("status", cycle / "strategy.yaml", cycle / "returned", "--json").output)
    mkt = next(d for d in status["departments"] if d["code"] == "MKT")
    assert mkt["state"] == "returned", mkt
    run("reconcile", cycle / "strategy.yaml", cycle / "returned", "-o", cycle / "master.xlsx", "-q", code=None)
    run(
        "checkin",
        cycle / "master.xlsx",
        "--strategy",
        cycle / "strategy.yaml",
        "--period",
        "Q1",
        "-o",
        cycle / "checkins",
    )
    assert (cycle / "checkins" / "FY2027_MKT_Q1_checkin.xlsx").is_file()
    run("export", cycle / "master.xlsx", "-o", cycle / "export")  # the spec beside the master
    header = (cycle / "export" / "initiatives.csv").read_text().splitlines()[0].split(",")
    assert "risk" in header or "Risk" in header, header
    assert "High" in (cycle / "export" / "initiatives.csv").read_text()
    diff = run("diff", cycle / "master.xlsx", cycle / "export", "--json")
    assert json.loads(diff.output)


# ---- item 5: misspelt keys --------------------------------------------------------------------------


def test_misspelt_strategy_keys_are_errors_with_path_and_suggestion(cycle: Path, tmp_path: Path):
    strategy = cycle / "strategy.yaml"
    edit(strategy, "    target: 72\n", "    targt: 72\n")
    edit(strategy, "    weight: 0.2\n", "    wieght: 0.2\n")
    edit(strategy, "budget_cap: 900000", "budget_cp: 900000")
    edit(strategy, "contact_email:", "contact_emial:")
    result = run("generate", strategy, "-o", tmp_path / "outbox", code=2)
    lines = result.output.splitlines()
    assert any(
        "objectives[0].targt" in line and "unknown key 'targt' (did you mean 'target'?)" in line for line in lines
    ), result.output
    assert any(
        "objectives[0].wieght" in line and "unknown key 'wieght' (did you mean 'weight'?)" in line for line in lines
    ), result.output
    assert any(
        "departments[0].budget_cp" in line and "unknown key 'budget_cp' (did you mean 'budget_cap'?)" in line
        for line in lines
    ), result.output
    assert any("contact_emial" in line and "(did you mean 'contact_email'?)" in line for line in lines), result.output
    assert "[strategy-unknown-key]" in result.output and not (tmp_path / "outbox").exists()
    run("reconcile", strategy, cycle, "-o", tmp_path / "m.xlsx", code=2)


def test_unknown_key_far_from_any_gets_no_suggestion(cycle: Path, tmp_path: Path):
    edit(cycle / "strategy.yaml", "cycle: FY2027\n", "cycle: FY2027\nzzz_notes: remember\n")
    result = run("generate", cycle / "strategy.yaml", "-o", tmp_path / "o", code=2)
    assert "zzz_notes: error: unknown key 'zzz_notes' [strategy-unknown-key]" in result.output


def test_email_section_is_a_known_strategy_key(cycle: Path, tmp_path: Path):
    edit(cycle / "strategy.yaml", "cycle: FY2027\n", "cycle: FY2027\nemail:\n  cc: [office@northwind.example]\n")
    run("generate", cycle / "strategy.yaml", "-o", tmp_path / "o", "--department", "MKT")


def test_strategy_workbook_unknown_fields_and_headers(tmp_path: Path):
    from cascadebook import load_strategy
    from cascadebook.strategy import read_strategy
    from strategy_book import write_strategy_workbook

    root = Path(__file__).resolve().parents[1]
    book_path = write_strategy_workbook(load_strategy(root / "samples" / "strategy.yaml"), tmp_path / "s.xlsx")
    book = openpyxl.load_workbook(book_path)
    deps = book["Departments"]
    cap = next(c for c in deps[1] if c.value == "Budget cap")
    cap.value = "Budget cp"
    field_row = next(r for r in book["Strategy"].iter_rows() if r[0].value == "Contact e-mail")
    field_row[0].value = "Contact emial"
    book.save(book_path)

    strategy, found = read_strategy(book_path)
    assert strategy is None
    unknown = {(f.sheet, f.cell, f.message) for f in found if f.code == "strategy-unknown-key"}
    assert (
        "Departments",
        f"{cap.column_letter}1",
        "unknown column 'Budget cp' (did you mean 'Budget cap'?)",
    ) in unknown
    assert (
        "Strategy",
        f"A{field_row[0].row}",
        "unknown field 'Contact emial' (did you mean 'Contact e-mail'?)",
    ) in unknown


def test_typo_in_the_cycle_spec_is_a_one_line_error(cycle: Path, tmp_path: Path):
    edit(cycle / "department.yaml", "{key: title, header: Initiative,", "{key: title, heder: Initiative,")
    result = run("generate", cycle / "strategy.yaml", "-o", tmp_path / "o", code=2)
    assert re.search(
        r"department\.yaml: sheets\[0\]\.columns\[2\]\.heder: unknown key 'heder' "
        r"\(did you mean 'header'\?\)",
        result.output,
    ), result.output
    assert "Traceback" not in result.output and not (tmp_path / "o").exists()

    shutil.copyfile(
        Path(__file__).resolve().parents[1] / "workbook_templates" / "department.yaml", cycle / "department.yaml"
    )
    edit(cycle / "department.yaml", "    prefilled_rows: 12\n", "    prefiled_rows: 12\n")
    result = run("reconcile", cycle / "strategy.yaml", cycle, "-o", tmp_path / "m.xlsx", code=2)
    assert "sheets[0].prefiled_rows: unknown key 'prefiled_rows' (did you mean 'prefilled_rows'?)" in result.output


# ---- item 11: YAML syntax errors name the file; the comment init writes is true ----------------------


def test_yaml_syntax_errors_name_the_file_and_line(cycle: Path, tmp_path: Path):
    edit(cycle / "strategy.yaml", "periods: [Q1, Q2, Q3, Q4]", "periods: [Q1, Q2, Q3, Q4")
    result = run("generate", cycle / "strategy.yaml", "-o", tmp_path / "o", code=2)
    assert "strategy.yaml" in result.output and "<unicode string>" not in result.output
    line = next(
        i for i, text in enumerate((cycle / "strategy.yaml").read_text().splitlines(), 1) if text.startswith("periods:")
    )
    # the unclosed list is noticed on the next line, where a key follows
    assert (
        f"strategy.yaml: error: YAML syntax error at line {line + 1}, column 18: expected ',' or ']'" in result.output
    ), result.output

    edit(cycle / "strategy.yaml", "periods: [Q1, Q2, Q3, Q4", "periods: [Q1, Q2, Q3, Q4]")
    edit(cycle / "department.yaml", "name: department\n", "name: department\n  bad: : indent\n")
    line = (cycle / "department.yaml").read_text().splitlines().index("  bad: : indent") + 1
    result = run("generate", cycle / "strategy.yaml", "-o", tmp_path / "o", code=2)
    assert f"department.yaml: YAML syntax error at line {line}, column 6" in result.output, result.output
    assert "<unicode string>" not in result.output and "Traceback" not in result.output


def test_commands_in_the_init_strategy_comment_run_as_written(cycle: Path, monkeypatch):
    comment = [line[1:].strip() for line in (cycle / "strategy.yaml").read_text().splitlines() if line.startswith("#")]
    commands = [line.split("  ")[0].split() for line in comment if line.startswith("cascadebook ")]
    assert [c[1] for c in commands] == ["generate", "reconcile"]
    assert "samples/" not in "\n".join(comment)
    monkeypatch.chdir(cycle)
    run(*commands[0][1:])
    fill(
        Path("outbox") / "FY2027_MKT.xlsx",
        Path("returned") / "MKT.xlsx",
        [initiative("CO1", "Trade-show circuit", **{"Expected impact": "40 leads"})],
        [kpi("MKT-I01", "Leads")],
    )
    run(*commands[1][1:], code=None)
    _, rows = master_rows(Path("master.xlsx"))
    assert rows["MKT-I01"]["Initiative"] == "Trade-show circuit"


def test_readme_whole_cycle_runs_as_written_with_an_edited_spec(tmp_path: Path, monkeypatch):
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    block = readme.split("A whole cycle from scratch", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].split() for line in block.splitlines() if line.startswith("cascadebook ")]
    assert [c[1] for c in commands] == ["init", "generate", "reconcile", "reconcile", "decisions", "generate"]
    monkeypatch.chdir(tmp_path)
    run(*commands[0][1:])
    add_risk_and_rename(Path("cycle") / "department.yaml")  # "... edit cycle/department.yaml ..."
    run(*commands[1][1:])
    fill(
        Path("cycle/outbox/FY2027_MKT.xlsx"),
        Path("cycle/returned/MKT.xlsx"),
        [initiative("CO1", "Trade-show circuit", **{"Expected result": "40 leads", "Risk": "Medium"})],
        [kpi("MKT-I01", "Leads")],
    )
    run(*commands[2][1:], code=None)
    _head, rows = master_rows(Path("cycle/master.xlsx"))
    assert rows["MKT-I01"]["Risk"] == "Medium" and rows["MKT-I01"]["Expected result"] == "40 leads"
    assert Path("cycle/findings.json").is_file()
    # "... finance reviews cycle/master.xlsx in Excel ...": a decision typed into the master
    book = openpyxl.load_workbook("cycle/master.xlsx")
    ws = book["Initiatives"]
    header = {c.value: c.column for c in ws[1]}
    row = next(r for r in range(2, ws.max_row + 1) if ws.cell(r, header["Initiative ID"]).value == "MKT-I01")
    ws.cell(row, header["Decision"], "Revise")
    ws.cell(row, header["Comment"], "name the shows")
    book.save("cycle/master.xlsx")
    run(*commands[3][1:], code=None)  # reconcile again: the decision is kept
    _head, rows = master_rows(Path("cycle/master.xlsx"))
    assert (rows["MKT-I01"]["Decision"], rows["MKT-I01"]["Comment"]) == ("Revise", "name the shows")
    assert Path("cycle/master.previous.xlsx").is_file()
    run(*commands[4][1:], code=None)  # decisions: a workbook and a reply draft for Marketing
    assert sorted(p.name for p in Path("cycle/decisions").iterdir()) == [
        "FY2027_MKT decisions.eml",
        "FY2027_MKT_decisions.xlsx",
    ]
    run(*commands[5][1:])  # the next round: Marketing's template shows the decision
    sheet = openpyxl.load_workbook("cycle/round2/FY2027_MKT.xlsx")["Initiatives"]
    assert "Revise" in [c.value for row in sheet.iter_rows(min_row=HEADER_ROW + 1) for c in row]
    assert "name the shows" in [c.value for row in sheet.iter_rows(min_row=HEADER_ROW + 1) for c in row]


def test_other_spec_returns_in_a_process_pool_read_as_serially(cycle: Path):
    """reconcile's workers get the candidate specs too: 2 jobs give what 1 job gives."""
    add_risk_and_rename(cycle / "department.yaml", version="1.1")
    run("generate", cycle / "strategy.yaml", "-o", cycle / "outbox")
    shutil.copyfile(cycle / "department.yaml", cycle / "department-1.1.yaml")
    edit(cycle / "department.yaml", 'version: "1.1"', 'version: "2.0"')
    edit(cycle / "department.yaml", "{key: owner, header: Owner,", "{key: owner, header: Accountable,")
    codes = ("MKT", "SAL", "OPS", "FIN", "RND")
    for n, code in enumerate(codes):
        fill(
            cycle / "outbox" / f"FY2027_{code}.xlsx",
            cycle / "returned" / f"{code}.xlsx",
            [initiative("CO1", f"{code} plan", Owner=f"Owner {n}", Risk="Low", **{"Expected result": "more"})],
            [kpi(f"{code}-I01", "Leads")],
        )
    reports = []
    for jobs in ("1", "2"):
        run(
            "reconcile",
            cycle / "strategy.yaml",
            cycle / "returned",
            "-o",
            cycle / f"master{jobs}.xlsx",
            "--json",
            cycle / f"report{jobs}.json",
            "-q",
            "-j",
            jobs,
            code=None,
        )
        _, rows = master_rows(cycle / f"master{jobs}.xlsx")
        assert {rows[f"{c}-I01"]["Accountable"] for c in codes} == {f"Owner {n}" for n in range(len(codes))}
        assert rows["OPS-I01"]["Risk"] == "Low"
        reports.append([(f["code"], f["file"], f["cell"]) for f in findings(cycle / f"report{jobs}.json")])
    assert reports[0] == reports[1]
    assert not [f for f in reports[0] if f[0] in ("spec-mismatch", "missing-column", "rows-not-taken")]
