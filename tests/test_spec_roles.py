"""Spec roles (issue 16, step 3): the code finds the columns and sheets it relies on by role, so renaming a
key, a header or a sheet in department.yaml is a YAML change and nothing else.

Three parts:

* the loader: an unknown role, a role twice on a sheet, a required role missing are one-line SpecErrors;
  a spec written before roles (no ``role:`` at all) still loads and gets the roles of its keys;
* renames: each starts from ``cascadebook init``, edits department.yaml as text, then runs the whole
  cycle through the CLI (generate, fill with openpyxl, reconcile, checkin, fill, reconcile with the
  check-ins, a changed return, diff, export) and compares what it wrote, cell by cell, with the same
  cycle on the spec as ``init`` wrote it: only the renamed text may differ;
* the source: no key, header, sheet key or sheet title of the bundled specs is spelled as a string in
  src/ outside the spec package, but for the words listed (with why) in ALLOWED.
"""

from __future__ import annotations

import ast
import json
import re
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import yaml
from click.testing import CliRunner

from cascadebook.cli import cli
from cascadebook.kinds import META_SHEET
from cascadebook.spec import roles
from cascadebook.spec.schema import SpecError, load_spec
from cascadebook.template.department import HEADER_ROW
from conftest import ROOT
from fill import fill_workbook

BUNDLED = (ROOT / "workbook_templates" / "department.yaml").read_text(encoding="utf-8")
SRC = ROOT / "src" / "cascadebook"


def run(*args: Any, code: int | None = 0):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    if code is not None:
        assert result.exit_code == code, result.output
    return result


def _spec(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "department.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _roles(spec) -> dict[str, tuple[str, dict[str, str]]]:
    return {s.key: (s.role, {c.key: c.role for c in s.columns}) for s in spec.sheets}


# ---- the loader ------------------------------------------------------------------------------------------


TARGET = (
    '      - {key: target, header: Target, type: number, required: true, width: 10,\n'
    '         help: "Where the metric will be at the due period. It must move in the objective\'s direction.", '
    'role: target}\n'
)


@pytest.mark.parametrize(
    "old,new,error",
    [
        (TARGET, "", ": sheets[0]: role 'target' is required on sheet 'initiatives' (of role 'initiatives')"),
        ("role: target}", "role: targt}", "has unknown role 'targt' (did you mean 'target'?)"),
        ("role: baseline}", "role: target}", "role 'target' is used twice on sheet 'initiatives'"),
        ("    role: initiatives\n", "    role: initiative\n", "unknown role 'initiative' (did you mean"),
        ("    role: kpis\n", "    role: initiatives\n", "role 'initiatives' is on sheets 'initiatives' and 'kpis'"),
        ("role: budget}", "role: actual}", "role 'actual' does not belong on sheet 'initiatives'"),
        ("type: currency, width: 12", "type: text, width: 12", "has role 'budget', which needs type"),
    ],
    ids=["required missing", "unknown", "twice", "unknown sheet role", "sheet role twice", "wrong sheet", "type"],
)
def test_a_spec_whose_roles_do_not_fit_is_a_one_line_error(tmp_path, old, new, error):
    assert old in BUNDLED, old
    path = _spec(tmp_path, BUNDLED.replace(old, new, 1))
    with pytest.raises(SpecError) as raised:
        load_spec(path)
    assert error in str(raised.value) and str(raised.value).startswith(str(path))
    result = run("generate", ROOT / "samples" / "strategy.yaml", "--spec", path, "-o", tmp_path / "o", code=2)
    assert error in " ".join(result.output.split()) and "Traceback" not in result.output
    assert not (tmp_path / "o").exists()


def test_the_error_for_a_removed_required_column_names_the_role_and_the_sheet(tmp_path):
    with pytest.raises(SpecError) as raised:
        load_spec(_spec(tmp_path, BUNDLED.replace(TARGET, "", 1)))
    assert "role 'target' is required on sheet 'initiatives'" in str(raised.value)


def test_a_spec_written_before_roles_gets_the_roles_of_its_keys(tmp_path):
    """The bundled spec with every role: taken out loads with the same roles, from the conventional keys;
    and such a spec may lack a column a role names (as before roles, with no error). (Nor had it the master's
    review columns, whose section the bundled spec's roles then stand in for.)"""
    bare = re.sub(r"(?ms)^review:\n.*?(?=^sheets:)", "", BUNDLED)
    bare = re.sub(r", role: \w+\}", "}", bare)
    bare = re.sub(r"(?m)^    role: \w+\n", "", bare)
    assert "role:" not in bare.replace("`role:", "")
    old = load_spec(_spec(tmp_path, bare))
    assert _roles(old) == _roles(load_spec("department"))
    assert old.fingerprint() == load_spec("department").fingerprint()  # roles are not signed
    target = TARGET.replace(", role: target}", "}")
    assert target in bare
    without_target = load_spec(_spec(tmp_path, bare.replace(target, "", 1)))  # no error: as before roles
    assert without_target.sheet_by_role(roles.INITIATIVES).key_of(roles.TARGET) == ""


def test_a_spec_without_roles_finds_its_objective_and_initiative_by_reference(tmp_path):
    """Before roles the objective and a KPI's initiative were found by reference type: a spec without
    roles whose keys are not the conventional ones is read the same way."""
    bare = re.sub(r"(?ms)^review:\n.*?(?=^sheets:)", "", BUNDLED)
    bare = re.sub(r", role: \w+\}", "}", bare)
    bare = re.sub(r"(?m)^    role: \w+\n", "", bare)
    bare = bare.replace("{key: objective_id,", "{key: goal_ref,").replace("{key: initiative_id,", "{key: parent,")
    spec = load_spec(_spec(tmp_path, bare))
    assert spec.sheet("initiatives").key_of(roles.OBJECTIVE_REF) == "goal_ref"
    assert spec.sheet("kpis").key_of(roles.INITIATIVE_REF) == "parent"


def test_every_role_of_the_catalogue_fits_the_bundled_specs():
    """Each required role is on the bundled sheets of its sheet role, with a type the catalogue allows."""
    for name in ("department", "checkin"):
        for sheet in load_spec(name).sheets:
            assert sheet.role in roles.SHEET_ROLES, (name, sheet.key)
            for role in roles.required(sheet.role):
                assert sheet.by_role(role) is not None, (name, sheet.key, role)
            for col in sheet.columns:
                if col.role:
                    assert col.type in roles.ROLES[col.role].types, (name, sheet.key, col.key)


# ---- renames: the whole cycle, compared with the cycle on the spec as init wrote it ------------------------


@dataclass(frozen=True)
class Rename:
    """Edits of department.yaml (old, new, count), and what they rename: ``shown`` the text people see
    (headers, sheet titles), ``keys`` the keys (the JSON report's and the export's names)."""

    edits: tuple[tuple[str, str, int], ...] = ()
    shown: dict[str, str] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)


RENAMES = {
    "header Budget to Spend": Rename(
        (("{key: budget, header: Budget,", "{key: budget, header: Spend,", 1),), shown={"Budget": "Spend"}
    ),
    "key target to goal": Rename((("{key: target,", "{key: goal,", 2),), keys={"target": "goal"}),
    "key budget to spend": Rename((("{key: budget,", "{key: spend,", 1),), keys={"budget": "spend"}),
    "sheet key kpis to measures": Rename((("  - key: kpis\n", "  - key: measures\n", 1),), keys={"kpis": "measures"}),
    "sheet title Initiatives to Projects": Rename(
        (("    title: Initiatives\n", "    title: Projects\n", 1),), shown={"Initiatives": "Projects"}
    ),
}
AS_INIT_WROTE = Rename()

# What people type, by the headers of the spec as init writes it (a renamed header is typed under its new name).
MKT = {
    "Initiatives": [
        {"Objective": "CO1", "Initiative": "Trade-show circuit", "Expected impact": "40 enterprise leads",
         "Unit": "count", "Baseline": 10, "Target": 40, "Due period": "Q4", "Owner": "Priya Raman",
         "Budget": 250000, "Headcount": 2, "Weight": 0.6, "Contribution (objective unit)": 3},
        {"Objective": "CO3", "Initiative": "Brand survey push", "Expected impact": "awareness +5 points",
         "Unit": "%", "Baseline": 0.48, "Target": 0.53, "Due period": "Q3", "Owner": "Jon Ellis",
         "Budget": 120000, "Headcount": 1, "Contribution (objective unit)": 0.05},
    ],
    "KPIs": [
        {"Initiative ID": "MKT-I01", "Level": "Team", "Team": "Demand", "Owner": "Sam Lee", "KPI": "Leads",
         "Unit": "count", "Baseline": 10, "Target": 150, "Frequency": "Monthly", "Due period": "Q4"},
        {"Initiative ID": "MKT-I02", "Level": "Individual", "Owner": "Jon Ellis", "KPI": "Survey reach",
         "Unit": "count", "Baseline": 0, "Target": 5000, "Due period": "Q3"},
    ],
}  # fmt: skip
OPS = {
    "Initiatives": [  # CO5 is to decrease: a target above the baseline goes the wrong way (target-direction)
        {"Objective": "CO5", "Initiative": "Regional depots", "Expected impact": "Delivery days 10 to 8",
         "Unit": "days", "Baseline": 9, "Target": 11, "Due period": "Q4", "Owner": "Elena Novak",
         "Budget": 1800000, "Headcount": 6, "Contribution (objective unit)": -1},
    ],
    "KPIs": [
        {"Initiative ID": "OPS-I01", "Level": "Team", "Team": "Logistics", "Owner": "Elena Novak",
         "KPI": "Average delivery days", "Unit": "days", "Baseline": 10, "Target": 8, "Due period": "Q4"},
    ],
}  # fmt: skip
CHECKIN = {  # MKT's Q1 check-in, by the check-in spec's headers (checkin.yaml is not renamed)
    "MKT-I01": {"Actual": 18, "Status": "On track", "Comment": "Two shows done"},
    "MKT-I02": {"Actual": 0.47, "Status": "At risk"},
    "MKT-K01": {"Actual": 60, "Status": "On track"},
}
SAVED = datetime(2027, 1, 25, 9, 0, tzinfo=timezone.utc)


def _headers(ws) -> dict[str, int]:
    return {str(c.value).replace("*", "").strip(): c.column for c in ws[HEADER_ROW] if c.value}


def _fill(template: Path, target: Path, rows: dict[str, list[dict]], rename: Rename, saved: datetime) -> None:
    """Type the rows under the headers a person sees, on the sheets they see (renamed ones by their new names)."""
    book = openpyxl.load_workbook(template)
    cells = {}
    for title, items in rows.items():
        title = rename.shown.get(title, title)
        where = _headers(book[title])
        for r, item in enumerate(items, HEADER_ROW + 1):
            for header, value in item.items():
                column = where[rename.shown.get(header, header)]
                cells[f"'{title}'!{openpyxl.utils.get_column_letter(column)}{r}"] = value
    fill_workbook(template, target, cells, saved_at=saved)


def _fill_checkin(checkin: Path, target: Path) -> None:
    book = openpyxl.load_workbook(checkin)
    cells = {}
    for ws in (book["Initiatives"], book["KPIs"]):
        where = _headers(ws)
        for r in range(HEADER_ROW + 1, ws.max_row + 1):
            for header, value in CHECKIN.get(ws.cell(r, 1).value, {}).items():
                cells[f"'{ws.title}'!{openpyxl.utils.get_column_letter(where[header])}{r}"] = value
    fill_workbook(checkin, target, cells, saved_at=datetime(2027, 4, 6, 12, 0, tzinfo=timezone.utc))


def _cycle(folder: Path, rename: Rename) -> Path:
    """The whole cycle in ``folder`` through the CLI, on department.yaml as init wrote it, then edited."""
    run("init", folder)
    spec = folder / "department.yaml"
    text = spec.read_text(encoding="utf-8")
    for old, new, count in rename.edits:
        assert text.count(old) == count, old
        text = text.replace(old, new)
    spec.write_text(text, encoding="utf-8")
    strategy = folder / "strategy.yaml"
    run("generate", strategy, "-o", folder / "outbox", "--department", "MKT", "--department", "OPS")
    outbox = {p.stem.split("_")[1]: p for p in (folder / "outbox").glob("*.xlsx")}
    _fill(outbox["MKT"], folder / "returned" / "MKT.xlsx", MKT, rename, SAVED)
    _fill(outbox["OPS"], folder / "returned" / "OPS.xlsx", OPS, rename, SAVED)
    reconcile = ["reconcile", strategy, "-j", "1"]
    run(*reconcile, folder / "returned", "-o", folder / "master.xlsx", "--json", folder / "master.json", code=None)
    run("checkin", folder / "master.xlsx", "-s", strategy, "-p", "Q1", "-o", folder / "checkins")
    (checkin,) = (folder / "checkins").glob("*MKT*.xlsx")
    _fill_checkin(checkin, folder / "checkins_returned" / "MKT Q1.xlsx")
    run(
        *reconcile,
        folder / "returned",
        folder / "checkins_returned",
        "-o",
        folder / "master_progress.xlsx",
        "--json",
        folder / "master_progress.json",
        code=None,
    )
    changed = {  # MKT retargets its first initiative and gives a KPI another owner
        "Initiatives": [{**MKT["Initiatives"][0], "Target": 45}, MKT["Initiatives"][1]],
        "KPIs": [MKT["KPIs"][0], {**MKT["KPIs"][1], "Owner": "Lee Chan"}],
    }
    _fill(outbox["MKT"], folder / "returned2" / "MKT.xlsx", changed, rename, SAVED)
    shutil.copy2(folder / "returned" / "OPS.xlsx", folder / "returned2" / "OPS.xlsx")
    run(*reconcile, folder / "returned2", "-o", folder / "master2.xlsx", code=None)
    run("diff", folder / "master.xlsx", folder / "master2.xlsx", "--json", folder / "diff.json")
    run("export", folder / "master_progress.xlsx", "-o", folder / "export")
    return folder


@pytest.fixture(scope="module")
def cycles(tmp_path_factory):
    """``cycles(name)``: the cycle run on the spec with that rename ("" for as init wrote it), once a module."""
    done: dict[str, Path] = {}

    def get(name: str = "") -> Path:
        if name not in done:
            folder = tmp_path_factory.mktemp("roles") / "cycle"
            done[name] = _cycle(folder, RENAMES[name] if name else AS_INIT_WROTE)
        return done[name]

    return get


_STAMP = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[+-]\d{2}:\d{2}|Z)?")  # run times
_CHECK_LENGTH = re.compile(r",3,\d+\),\"\"\)$")  # the Check column's MID: as long as its messages, renamed too


def _like(before: Any, after: Any, rename: Rename) -> bool:
    """``after`` is ``before``, or ``before`` with renamed text (or keys) in it renamed."""
    if isinstance(before, str) and isinstance(after, str):
        before, after = (_CHECK_LENGTH.sub(",3,<n>),\"\")", _STAMP.sub("<time>", t)) for t in (before, after))
        if before == after:
            return True
        for old, new in {**rename.shown, **rename.keys}.items():
            before = before.replace(old, new)
        return before == after
    if isinstance(before, float) and isinstance(after, float):
        return before == pytest.approx(after)
    return before == after


def _compare(before: Any, after: Any, rename: Rename, where: str, out: list[str]) -> None:
    """Every difference of two parsed JSON/YAML trees that is not a rename, with where it is."""
    if isinstance(before, dict) and isinstance(after, dict):
        # a renamed key is under its new name, unless the output's own name kept it (the export's nesting)
        renamed = {(k if k in after else rename.keys.get(k, k)): v for k, v in before.items()}
        for key in sorted(set(renamed) | set(after), key=str):
            _compare(renamed.get(key, "<absent>"), after.get(key, "<absent>"), rename, f"{where}/{key}", out)
    elif isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        for i, (a, b) in enumerate(zip(before, after)):
            _compare(a, b, rename, f"{where}[{i}]", out)
    elif not _like(before, after, rename):
        out.append(f"{where}: {before!r} -> {after!r}")


def _workbook_differences(before: Path, after: Path, rename: Rename) -> list[str]:
    """Every cell (value or formula, and cached value) of two workbooks that differs beyond the rename."""
    out: list[str] = []
    for data_only in (False, True):
        a, b = openpyxl.load_workbook(before, data_only=data_only), openpyxl.load_workbook(after, data_only=data_only)
        titles = [rename.shown.get(t, t) for t in a.sheetnames]
        if titles != b.sheetnames:
            return [f"sheets {a.sheetnames} -> {b.sheetnames}"]
        for old, new in zip(a.worksheets, b.worksheets):
            if old.title == META_SHEET:  # the spec's fingerprint (it was edited) and the signature: meant to differ
                continue
            if (old.max_row, old.max_column) != (new.max_row, new.max_column):
                out.append(f"{new.title}: size {old.dimensions} -> {new.dimensions}")
                continue
            for row_a, row_b in zip(old.iter_rows(), new.iter_rows()):
                for x, y in zip(row_a, row_b):
                    if not _like(x.value, y.value, rename):
                        out.append(f"{new.title}!{y.coordinate}: {x.value!r} -> {y.value!r}")
    return out


@pytest.mark.parametrize("name", list(RENAMES))
def test_a_renamed_spec_gives_the_same_cycle(cycles, name: str):
    rename = RENAMES[name]
    as_init_wrote, renamed = cycles(), cycles(name)
    differences = []
    for book in ("outbox/FY2027_OPS.xlsx", "master.xlsx", "master_progress.xlsx", "master2.xlsx"):
        differences += [f"{book} {d}" for d in _workbook_differences(as_init_wrote / book, renamed / book, rename)]
    for tree in ("master_progress.json", "diff.json", "export/hierarchy.yaml"):
        read = json.loads if tree.endswith(".json") else yaml.safe_load
        before, after = (read((root / tree).read_text(encoding="utf-8")) for root in (as_init_wrote, renamed))
        if tree == "diff.json":
            before = {k: v for k, v in before.items() if k not in ("old", "new")}  # the masters' own paths
            after = {k: v for k, v in after.items() if k not in ("old", "new")}
        _compare(before, after, rename, tree, differences)
    assert not differences, "\n".join(d if len(d) < 400 else d[:400] + " ..." for d in differences[:30])


def _cached(master: Path, sheet: str, label: str) -> Any:
    ws = openpyxl.load_workbook(master, data_only=True)[sheet]
    return next(row[1].value for row in ws.iter_rows() if row[0].value == label)


def test_a_renamed_budget_header_is_the_masters_word_and_its_total(cycles):
    """Header Budget -> Spend: the master is written (it used to raise), its Summary says Spend, and the
    total it caches is what the departments asked for."""
    folder = cycles("header Budget to Spend")
    asked = sum(r["Budget"] for rows in (MKT, OPS) for r in rows["Initiatives"])
    assert _cached(folder / "master.xlsx", "Summary", "Spend requested") == asked
    contributions = openpyxl.load_workbook(folder / "master.xlsx")["Contributions"]
    assert "Spend" in [c.value for c in contributions[1]] and "Budget" not in [c.value for c in contributions[1]]


def test_a_renamed_budget_key_keeps_the_summarys_cached_total(cycles):
    """Key budget -> spend: the Summary's cached total is the sum of the budgets (it used to be 0)."""
    folder = cycles("key budget to spend")
    asked = sum(r["Budget"] for rows in (MKT, OPS) for r in rows["Initiatives"])
    assert _cached(folder / "master.xlsx", "Summary", "Budget requested") == asked
    report = json.loads((folder / "master.json").read_text())
    assert report["departments"]["OPS"]["budget"] == OPS["Initiatives"][0]["Budget"]


def test_a_renamed_target_key_keeps_the_direction_rule(cycles):
    """Key target -> goal: a target moving against its objective's direction is still reported (the rule
    used to turn itself off), at the target's cell, and the template still checks it while typing."""
    folder = cycles("key target to goal")
    found = json.loads((folder / "master.json").read_text())["findings"]
    direction = [f for f in found if f["code"] == "target-direction"]
    assert len(direction) == 1 and direction[0]["department"] == "OPS", direction
    ws = openpyxl.load_workbook(folder / "returned" / "OPS.xlsx")["Initiatives"]
    assert direction[0]["cell"] == f"{openpyxl.utils.get_column_letter(_headers(ws)['Target'])}{HEADER_ROW + 1}"
    checks = openpyxl.load_workbook(folder / "outbox" / "FY2027_OPS.xlsx")["Initiatives"]
    check = _headers(checks)["Check"]
    assert "Target against the objective's direction" in checks.cell(HEADER_ROW + 1, check).value


def test_a_renamed_kpis_sheet_key_keeps_the_kpis_in_the_goal_hierarchy(cycles):
    """Sheet key kpis -> measures: the KPIs are in the Goal Hierarchy, under their initiatives (they used
    to vanish), and in the export."""
    folder = cycles("sheet key kpis to measures")
    ws = openpyxl.load_workbook(folder / "master.xlsx")["Goal Hierarchy"]
    levels = [row[0].value for row in ws.iter_rows(min_row=2)]
    assert levels.count("Team KPI") + levels.count("Individual KPI") == len(MKT["KPIs"]) + len(OPS["KPIs"])
    tree = yaml.safe_load((folder / "export" / "hierarchy.yaml").read_text())
    nested = [k for o in tree["objectives"] for i in o["initiatives"] for k in i.get("kpis", [])]
    assert len(nested) == 3 and (folder / "export" / "measures.csv").exists()


def test_a_renamed_sheet_title_is_the_masters_sheet(cycles):
    folder = cycles("sheet title Initiatives to Projects")
    book = openpyxl.load_workbook(folder / "master.xlsx")
    assert "Projects" in book.sheetnames and "Initiatives" not in book.sheetnames
    assert _cached(folder / "master.xlsx", "Summary", "Projects") == len(MKT["Initiatives"]) + len(OPS["Initiatives"])


# ---- the source: no spec key or header spelled in Python ------------------------------------------------

# Words of the bundled specs that src/ spells as a string, each with why it is not a spec column or sheet.
# Keyed by the file (relative to src/cascadebook) and the word.
_XLSXWRITER = "an xlsxwriter option or document property, not a spec column"
_REPORT = "a field of the JSON report (its own vocabulary), not a spec key"
_STRATEGY = "the strategy's objective (its own fields and the master's columns of it), not the department spec's"
_HIERARCHY = "the Goal Hierarchy's own columns and level names, shared by objectives, initiatives and KPIs"
_EXPORT = "the export format's own names (cascadebook-export/1), not the spec's keys"
ALLOWED: dict[tuple[str, str], str] = {
    ("__init__.py", "Objective"): "a name exported by the package (model.Objective)",
    ("cli.py", "Status"): "the terminal table's own column",
    ("cli.py", "status"): _REPORT,
    ("commands/mail.py", "Status"): "the status table's own column",
    ("consolidate/cascade.py", "level"): _REPORT,
    ("consolidate/cascade.py", "unit"): _REPORT,
    ("consolidate/commitments.py", "unit"): "why a contribution is left out (the word shown), not a column",
    ("consolidate/progress.py", "id"): _REPORT,
    ("consolidate/progress.py", "actual"): _REPORT,
    ("consolidate/progress.py", "status"): _REPORT,
    ("consolidate/reconcile.py", "status"): _REPORT,
    ("cycle/checkin.py", "title"): _XLSXWRITER,
    ("cycle/diff.py", "Objective"): "the Coverage sheet's own column: the strategy's objective",
    ("cycle/export.py", "initiatives"): _EXPORT,
    ("cycle/export.py", "kpis"): _EXPORT,
    ("cycle/export.py", "id"): _EXPORT + "; and the strategy objective's id",
    **{("cycle/export.py", w): _STRATEGY for w in ("Objective", "Unit", "Baseline", "Target")},
    **{("cycle/export.py", w): _STRATEGY for w in ("title", "unit", "baseline", "target")},
    ("inbox/messages.py", "name"): "an e-mail attachment's attribute",
    ("inbox/manifest.py", "status"): "a collect manifest's field",
    ("intake/gate.py", "name"): "an OOXML attribute",
    ("intake/gate.py", "id"): "an OOXML attribute",
    ("intake/gate.py", "Target"): "an OOXML relationship attribute",
    ("intake/reader.py", "title"): "how a sheet was recognised (by its title row), not a column",
    ("master/progress_sheet.py", "Objective"): _STRATEGY,
    ("master/progress_sheet.py", "Weight"): "the strategy objective's weight",
    ("master/progress_sheet.py", "name"): _XLSXWRITER,
    **{("master/book.py", w): _STRATEGY for w in ("Objective", "Unit", "Baseline", "Target")},
    **{("master/hierarchy.py", w): _HIERARCHY for w in ("Level", "Owner", "Initiative", "KPI", "Unit", "Due period")},
    **{("master/hierarchy.py", w): _STRATEGY for w in ("Objective", "Baseline", "Target")},
    ("master/tables.py", "Status"): "the Sources table's own column (the return status of each file)",
    ("master/commitments_sheet.py", "Status"): "the Commitments sheet's own column (coverage)",
    ("master/summary.py", "Status"): "the Summary sheet's own column (return status)",
    ("master/dashboard.py", "status"): _REPORT,
    ("master/dashboard_charts.py", "name"): _XLSXWRITER,
    ("master/summary.py", "status"): _REPORT,
    ("master/hierarchy.py", "level"): _XLSXWRITER,
    ("master/write.py", "title"): _XLSXWRITER,
    ("master/book.py", "name"): _XLSXWRITER,
    **{
        ("cycle/decisions.py", w): "a field of the decisions command's JSON (its own vocabulary), not a spec key"
        for w in ("initiative_id", "title", "comment", "name", "initiatives")
    },
    **{
        ("cycle/decisions.py", w): "the word of a finding code (approved-budget-above-request), not a column"
        for w in ("budget", "headcount")
    },
    ("cycle/decisions_book.py", "title"): _XLSXWRITER,
    ("master/rollups.py", "level"): _XLSXWRITER,
    ("master/rollups.py", "status"): _REPORT,
    **{
        ("master/rollups.py", w): "the By-unit table's own columns: org units and their level"
        for w in ("Unit", "Level")
    },
    **{("commands/mail.py", w): "the status table's own columns (org units)" for w in ("Level", "Unit")},
    ("cycle/diff.py", "level"): _REPORT,
    **{("cycle/export.py", w): "the nested export's own fields (a unit's name and level)" for w in ("level", "name")},
    ("kinds.py", "Level"): "the diff workbook's own column (the unit's level)",
    **{("mail/status.py", w): _REPORT for w in ("level", "name")},
    **{
        ("master/cascade_sheet.py", w): "the Cascade sheet's own columns (a parent initiative's level, unit, id)"
        for w in ("Level", "Unit", "Initiative", "Objective")
    },
    ("master/cascade_sheet.py", "level"): _XLSXWRITER,
    **{("master/progress_sheet.py", w): "the Through-the-cascade table's own columns" for w in ("Unit", "Initiative")},
    **{
        (f, w): "a column of the portal's own database tables, not a spec key"
        for f in ("portal/store.py", "portal/migrations/versions/0001_initial.py")
        for w in ("id", "status")
    },
    ("portal/security.py", "status"): "the ASGI message's field (the HTTP status)",
    ("model.py", "level"): "a metadata field (the unit's level in the org tree), signed in the template",
    ("master/rollup_levels.py", "Level"): "the By-level table's own column: the org tree's level",
    ("master/dashboard_levels.py", "name"): _XLSXWRITER,
    ("model.py", "id"): "Record.id_key's default: the conventional key, for a record made without a spec",
    **{("strategy.py", w): "the strategy spec's fields" for w in ("id", "title", "metric", "unit", "owner")},
    ("strategy.py", "Objective"): "the strategy's objectives",
    ("strategy.py", "target"): "the strategy spec's objective field",
    ("template/department.py", "title"): _XLSXWRITER,
    **{("template/department.py", w): _STRATEGY for w in ("baseline", "target")},
}


def _spec_words() -> set[str]:
    words = set()
    for name in ("department", "checkin"):
        for sheet in load_spec(name).sheets:
            words |= {sheet.key, sheet.title, *(c.key for c in sheet.columns), *(c.header for c in sheet.columns)}
    return words


def test_no_key_or_header_of_the_bundled_specs_is_spelled_in_the_code():
    words = _spec_words()
    found: dict[tuple[str, str], list[int]] = {}
    for path in sorted(SRC.rglob("*.py")):
        relative = path.relative_to(SRC).as_posix()
        if relative.startswith("spec/"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in words:
                found.setdefault((relative, node.value), []).append(node.lineno)
    spelled = [f"{f}:{lines[0]}: {w!r}" for (f, w), lines in sorted(found.items()) if (f, w) not in ALLOWED]
    assert not spelled, "spec keys or headers spelled in the code (ask the spec by role):\n" + "\n".join(spelled)
    stale = sorted(k for k in ALLOWED if k not in found)
    assert not stale, f"ALLOWED names words the code no longer spells: {stale}"
