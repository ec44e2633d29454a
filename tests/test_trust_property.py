"""Trust at first contact, as a property: for any mix of returns (drafts and finals, filled well and
badly), a check-in, and the tool's own workbooks dropped into the inputs folder, every view of the
master counts the same rows, and every row a person typed is in the master or named by a finding.

The cycles are drawn and written by tests/trust_builders.py. Each invariant is its own test over the
same examples (one seed, no example database), so a failure names the invariant, and hypothesis
prints the smallest cycle that breaks it; a cycle is built once and shared by the tests
(``_built``). Before the drawn cycles every test runs the issue's scenes (``SCENES``: an unknown
objective id, a KPI of an unknown initiative, contributions in the wrong unit, a split of 90%, the
tool's own workbooks in the inputs, a check-in, a department over its cap), so a failure on one of
them is reported at once, with its name, without shrinking. Messages say which view disagreed with
which, and the numbers.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, example, given, seed, settings

from cascadebook.master.commitments_sheet import COMMITMENTS_SHEET
from trust_builders import SCENES, SPEC, Built, Cycle, MasterViews, build, cycles, formula_disagreements

SEED = 20271  # every test below draws the same cycles, so each is built once (see _built)
# CASCADEBOOK_TRUST_SHRINK=0 reports the first failing cycle of each test as drawn, without shrinking
# it (shrinking builds hundreds of cycles: minutes per failing test).
PHASES = tuple(p for p in Phase if p is not Phase.shrink or os.environ.get("CASCADEBOOK_TRUST_SHRINK") != "0")
EXAMPLES = settings(
    max_examples=10,
    deadline=None,
    database=None,
    print_blob=True,
    phases=PHASES,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def scenes(test):
    """Run the issue's scenes (trust_builders.SCENES) first, as explicit examples."""
    for cycle in reversed(list(SCENES.values())):
        test = example(cycle=cycle)(test)
    return test


UNALIGNED = "unaligned"  # the label a view gives rows whose objective (or initiative) is not recognised

INITIATIVES = SPEC.sheet("initiatives").title
KPIS = SPEC.sheet("kpis").title
INITIATIVE_ID = SPEC.sheet("initiatives").column("id").header
KPI_ID = SPEC.sheet("kpis").column("id").header
OBJECTIVE = SPEC.sheet("initiatives").column("objective_id").header
BUDGET = SPEC.sheet("initiatives").column("budget").header
HEADCOUNT = SPEC.sheet("initiatives").column("headcount").header
PARENT = SPEC.sheet("kpis").column("initiative_id").header


@pytest.fixture(scope="module")
def workspace():
    root = Path(tempfile.mkdtemp(prefix="cascadebook-trust-"))
    yield root
    shutil.rmtree(root, ignore_errors=True)
    _BUILT.clear()
    _VIEWS.clear()


_BUILT: dict[Cycle, Built] = {}
_VIEWS: dict[Path, MasterViews] = {}


def _built(cycle: Cycle, workspace: Path) -> Built:
    if cycle not in _BUILT:
        _BUILT[cycle] = build(cycle, workspace / f"cycle-{len(_BUILT)}", workspace / "strategies")
    return _BUILT[cycle]


def _views(path: Path) -> MasterViews:
    if path not in _VIEWS:
        _VIEWS[path] = MasterViews(path)
    return _VIEWS[path]


def _number(value) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


def _row_of(finding: dict) -> set[int]:
    rows = set(finding.get("rows") or ())
    digits = re.sub(r"\D", "", finding.get("cell") or "")
    if digits:
        rows.add(int(digits))
    return rows


def _named(report: dict) -> set[tuple[str, str, int]]:
    """(file, sheet, row) of every row a finding of the JSON report names, by its rows or its cell."""
    return {
        (f["file"], f["sheet"], r) for f in report["findings"] if f.get("file") and f.get("sheet") for r in _row_of(f)
    }


def _per_department(rows: list[dict], column: str = "Department") -> Counter:
    return Counter(r[column] for r in rows)


# ------------------------------------------------------------------------------------------ nothing lost


@seed(SEED)
@EXAMPLES
@given(cycle=cycles())
@scenes
def test_every_typed_row_is_in_the_master_or_named_by_a_finding(cycle, workspace):
    built = _built(cycle, workspace)
    views = _views(built.master)
    in_tables = {
        (r["Source file"], sheet.title, r["Source row"]) for sheet in SPEC.sheets for r in views.table(sheet.title)
    }
    checked_in = {(r["Source file"], r["Sheet"], r["ID"]) for r in views.table("Check-ins")}
    named = _named(built.report)
    lost = [
        f"{file}: {sheet}!row {row} ({what})"
        for (file, sheet, row), what in sorted(built.typed.items())
        if (file, sheet, row) not in in_tables and (file, sheet, row) not in named
    ]
    lost += [
        f"{file}: {sheet}!row {row} (check-in row of {ident or 'no id'})"
        for (file, sheet, row), ident in sorted(built.checkin_ids.items(), key=str)
        if (file, sheet, ident) not in checked_in and (file, sheet, row) not in named
    ]
    assert not lost, (
        f"{len(lost)} typed row(s) are neither in the master's {INITIATIVES}/{KPIS}/Check-ins tables "
        "nor named (file, sheet, row) by any finding of the JSON report:\n  " + "\n  ".join(lost)
    )


# ------------------------------------------------------------------------------------------ counts agree


@seed(SEED)
@EXAMPLES
@given(cycle=cycles())
@scenes
def test_summary_tables_and_json_report_count_the_same_rows(cycle, workspace):
    built = _built(cycle, workspace)
    views = _views(built.master)
    facts, submissions = views.facts(), views.submissions()
    initiatives, kpis = views.table(INITIATIVES), views.table(KPIS)
    counts = built.report["counts"]
    problems = []
    for label, rows, key in (("Initiatives", initiatives, "initiatives"), ("KPIs", kpis, "kpis")):
        if not (facts.get(label) == len(rows) == counts.get(key)):
            problems.append(
                f"{label}: Summary says {facts.get(label)}, the {label} table has {len(rows)} row(s), "
                f"the JSON report counts {counts.get(key)}"
            )
    by_table = {"Initiatives": _per_department(initiatives), "KPIs": _per_department(kpis)}
    budget_by_table = Counter()
    for r in initiatives:
        budget_by_table[r["Department"]] += _number(r.get(BUDGET))
    checkins = built.checkin_files
    plan_sources = {
        s["department"]: s for s in built.report["sources"] if s["status"] == "accepted" and s["file"] not in checkins
    }
    for d in built.strategy.departments:
        row = submissions.get(d.code, {})
        for label in ("Initiatives", "KPIs"):
            if (row.get(label) or 0) != by_table[label][d.code]:
                problems.append(
                    f"{d.code}: Summary's Submissions says {row.get(label)} {label}, the {label} table "
                    f"has {by_table[label][d.code]}"
                )
        if abs(_number(row.get("Budget")) - budget_by_table[d.code]) > 0.01:
            problems.append(
                f"{d.code}: Summary's budget {row.get('Budget')}, the {INITIATIVES} table adds up to "
                f"{budget_by_table[d.code]:g}"
            )
        source = plan_sources.get(d.code)
        table_rows = by_table["Initiatives"][d.code] + by_table["KPIs"][d.code]
        if source is not None and source["rows"] != table_rows:
            problems.append(
                f"{d.code}: the JSON report reads {source['rows']} row(s) from its accepted file "
                f"{source['file']}, the master's tables hold {table_rows}"
            )
        if source is not None and row.get("File") != source["file"]:
            problems.append(
                f"{d.code}: Summary names {row.get('File')!r} as its return, the JSON report accepted "
                f"{source['file']!r}"
            )
    returned = [code for code, row in submissions.items() if row.get("Status") == "returned"]
    by_status = [d.code for d in built.status.departments if d.state in ("returned", "returned with errors")]
    if not (facts.get("Departments returned") == len(returned) == len(plan_sources) == len(by_status)):
        problems.append(
            f"departments returned: Summary says {facts.get('Departments returned')}, its Submissions "
            f"table marks {len(returned)} returned, the JSON report accepted plans from "
            f"{len(plan_sources)}, status says {len(by_status)}"
        )
    total_budget = sum(budget_by_table.values())
    if abs(_number(facts.get("Budget requested")) - total_budget) > 0.01:
        problems.append(
            f"budget: Summary says {facts.get('Budget requested')}, the {INITIATIVES} table adds up to {total_budget:g}"
        )
    assert not problems, "the master's views and the JSON report count different rows:\n  " + "\n  ".join(problems)


@seed(SEED)
@EXAMPLES
@given(cycle=cycles())
@scenes
def test_findings_are_counted_alike_in_summary_json_report_and_status(cycle, workspace):
    built = _built(cycle, workspace)
    views = _views(built.master)
    facts, submissions = views.facts(), views.submissions()
    sheet = Counter(r["Severity"] for r in views.table("Findings"))
    report = built.report
    problems = []
    for severity, label in (("error", "Errors"), ("warning", "Warnings"), ("info", "Info")):
        json_count = sum(1 for f in report["findings"] if f["severity"] == severity)
        if not (facts.get(label) == sheet[severity] == report["counts"][severity] == json_count):
            problems.append(
                f"{label}: Summary says {facts.get(label)}, the Findings sheet has {sheet[severity]}, the "
                f"JSON report counts {report['counts'][severity]} and lists {json_count}"
            )
    status = {d.code: d for d in built.status.departments}
    for d in built.strategy.departments:
        row = submissions.get(d.code, {})
        mine = Counter(f["severity"] for f in report["findings"] if f.get("department") == d.code)
        state = status[d.code]
        for severity, label in (("error", "Errors"), ("warning", "Warnings")):
            said = [f"Summary {row.get(label)}", f"JSON report {mine[severity]}"]
            agree = (row.get(label) or 0) == mine[severity]
            if state.state in ("returned", "returned with errors"):
                said.append(f"status {getattr(state, label.lower())}")
                agree = agree and getattr(state, label.lower()) == mine[severity]
            if not agree:
                problems.append(f"{d.code} {label.lower()}: " + ", ".join(said))
        listed = Counter((f.code, f.file, f.sheet, f.cell, f.message) for f in state.findings)
        twice = [k for k, n in listed.items() if n > 1]
        if twice:
            problems.append(f"{d.code}: status lists {len(twice)} finding(s) more than once: {twice[0][:4]}")
    assert not problems, "the findings are counted differently:\n  " + "\n  ".join(problems)


# ------------------------------------------------------------------------------------------ every view shows every row


def _matrix_lines(top_row: dict, skip: set[str]) -> list[str]:
    lines = []
    for header, value in top_row.items():
        if header in skip or not isinstance(value, str) or value == "not returned":
            continue
        lines += [line for line in value.split("\n") if line.strip()]
    return lines


@seed(SEED)
@EXAMPLES
@given(cycle=cycles())
@scenes
def test_alignment_matrix_shows_every_initiative(cycle, workspace):
    built = _built(cycle, workspace)
    views = _views(built.master)
    head, top, _heat_head, heat = views.matrix()
    initiatives = views.table(INITIATIVES)
    unaligned = [h for h in [*head, *top] if h.strip().casefold().startswith(UNALIGNED)]
    problems = []
    shown: dict[str, Counter] = {}
    anywhere = Counter()  # ids on a line of the matrix's own (an "Unaligned ..." row), whatever the department
    for code, row in top.items():
        lines = _matrix_lines(row, {"Department", "Initiatives"})
        shown[code] = Counter(line.split(" ", 1)[0] for line in lines)
        if code.strip().casefold().startswith(UNALIGNED):
            anywhere.update(shown[code])
            continue
        counted = _number(row.get("Initiatives"))
        heat_row = heat.get(code, {})
        # the heatmap: a count per objective (and Unaligned), their Total (a split initiative counts in each of
        # its objectives, as its lines do) and Initiatives (each initiative once, as the table counts them)
        cells = sum(_number(v) for h, v in heat_row.items() if h not in ("Department", "Total", "Initiatives"))
        once = _number(heat_row.get("Initiatives"))
        if not (len(lines) == _number(heat_row.get("Total")) == cells and counted == once <= len(lines)):
            problems.append(
                f"{code}: the matrix's Initiatives column says {row.get('Initiatives')}, its cells hold "
                f"{len(lines)} line(s), 'Initiatives per cell' adds up to {cells:g}, its Total says "
                f"{heat_row.get('Total')} and its Initiatives {heat_row.get('Initiatives')}"
            )
    rows_of = Counter((r["Department"], r[INITIATIVE_ID]) for r in initiatives)  # a duplicate id: as many lines
    for r in initiatives:
        lines = shown.get(r["Department"], Counter())[r[INITIATIVE_ID]] + anywhere[r[INITIATIVE_ID]]
        if lines < rows_of[(r["Department"], r[INITIATIVE_ID])]:
            problems.append(
                f"{r['Department']} {r[INITIATIVE_ID]} (objective {r.get(OBJECTIVE)!r}, split "
                f"{r.get('Objective split')!r}, from {r['Source file']} row {r['Source row']}) is in the "
                f"{INITIATIVES} table but not in the Alignment Matrix (its id is on {lines} line(s) of "
                f"the matrix, on {rows_of[(r['Department'], r[INITIATIVE_ID])]} row(s) of the table)"
                + ("" if unaligned else " (the matrix has no 'Unaligned' column or row)")
            )
    grand = _number(heat.get("Total", {}).get("Total"))
    per_department = sum(_number(v.get("Total")) for k, v in heat.items() if k != "Total")
    summary = _number(views.facts().get("Initiatives"))
    if grand != per_department or grand < summary:
        problems.append(
            f"the matrix total is {grand:g} (its departments add up to {per_department:g}); the Summary "
            f"counts {summary:g} initiatives, each of which is at least one line of the matrix"
        )
    assert not problems, "the Alignment Matrix does not show every initiative:\n  " + "\n  ".join(problems)


@seed(SEED)
@EXAMPLES
@given(cycle=cycles())
@scenes
def test_goal_hierarchy_lists_every_initiative_and_kpi(cycle, workspace):
    built = _built(cycle, workspace)
    views = _views(built.master)
    listed = Counter()
    sections = set()
    section = ""
    for row in views.hierarchy():
        level = str(row.get("Level") or "")
        texts = [str(v) for v in row.values() if isinstance(v, str)]
        if level.startswith("Objective") or any(t.strip().casefold().startswith(UNALIGNED) for t in texts):
            section = f"{row.get('ID') or ''} {row.get('Goal') or level}".strip()
            sections.add(section)
        elif (level == "Initiative" or level.endswith("KPI")) and section:  # under an objective or "Unaligned"
            listed[(level == "Initiative", row.get("Department"), row.get("ID"))] += 1
    has_unaligned = any(s.casefold().startswith(UNALIGNED) or UNALIGNED in s.casefold() for s in sections)
    problems = []
    initiatives, kpis = views.table(INITIATIVES), views.table(KPIS)
    rows_of = Counter((True, r["Department"], r[INITIATIVE_ID]) for r in initiatives)
    rows_of.update((False, r["Department"], r[KPI_ID]) for r in kpis)
    for r in initiatives:
        if listed[(True, r["Department"], r[INITIATIVE_ID])] < rows_of[(True, r["Department"], r[INITIATIVE_ID])]:
            problems.append(
                f"initiative {r['Department']} {r[INITIATIVE_ID]} (objective {r.get(OBJECTIVE)!r}, split "
                f"{r.get('Objective split')!r}, {r['Source file']} row {r['Source row']})"
            )
    for r in kpis:
        if listed[(False, r["Department"], r[KPI_ID])] < rows_of[(False, r["Department"], r[KPI_ID])]:
            problems.append(
                f"KPI {r['Department']} {r[KPI_ID]} (of initiative {r.get(PARENT)!r}, "
                f"{r['Source file']} row {r['Source row']})"
            )
    assert not problems, (
        f"{len(problems)} row(s) of the master's tables are missing from the Goal Hierarchy "
        f"({'it has an unaligned section' if has_unaligned else 'it has no Unaligned section'}):"
        "\n  " + "\n  ".join(problems)
    )


# ------------------------------------------------------------------------------------------ commitments


@seed(SEED)
@EXAMPLES
@given(cycle=cycles())
@scenes
def test_commitments_budget_reconciles_with_summary(cycle, workspace):
    built = _built(cycle, workspace)
    views = _views(built.master)
    facts = views.facts()
    above, total, below = views.commitments()
    assert total is not None, f"the {COMMITMENTS_SHEET} sheet has no Total row"
    problems = []
    for label, column in (("Budget requested", "Budget"), ("Headcount requested", "Headcount")):
        summary, committed = _number(facts.get(label)), _number(total.get(column))
        extra = sum(_number(r.get(column)) for r in below)
        by_rows = sum(_number(r.get(column)) for r in above)
        if abs(by_rows - committed) > 0.01:
            problems.append(
                f"{COMMITMENTS_SHEET}: the lines above the Total add up to {by_rows:g} {column}, the "
                f"Total row says {committed:g}"
            )
        if abs(committed - summary) > 0.01 and abs(committed + extra - summary) > 0.01:
            lines = [next((v for v in r.values() if isinstance(v, str)), "?") for r in below]
            problems.append(
                f"{column}: Summary's {label} is {summary:g}, the {COMMITMENTS_SHEET} total is "
                f"{committed:g} (a difference of {summary - committed:g}) and no line explains it"
                + (f" (other lines: {lines}, adding {extra:g})" if lines else "")
            )
    assert not problems, "the commitments do not reconcile with the Summary:\n  " + "\n  ".join(problems)


@seed(SEED)
@EXAMPLES
@given(cycle=cycles())
@scenes
def test_commitments_leave_out_contributions_flagged_for_unit_or_direction(cycle, workspace):
    built = _built(cycle, workspace)
    views = _views(built.master)
    flagged_cells = {
        (f["file"], r)
        for f in built.report["findings"]
        if f["code"] in ("contribution-unit", "contribution-direction")
        for r in _row_of(f)
    }
    initiatives = views.table(INITIATIVES)
    flagged = {
        (r["Department"], str(r[INITIATIVE_ID]).casefold())
        for r in initiatives
        if (r["Source file"], r["Source row"]) in flagged_cells
    }
    times = Counter((r["Department"], str(r[INITIATIVE_ID]).casefold()) for r in initiatives)
    expected, unsure = Counter(), set()
    for r in views.table("Contributions"):
        ident = (r["Department"], str(r["Initiative ID"]).casefold())
        if ident in flagged and times[ident] > 1:  # a duplicate id: which of its rows was flagged is not known here
            unsure.add(r["Objective"])
        if ident not in flagged:
            expected[r["Objective"]] += _number(r.get("Contribution"))
    objectives = [r for r in views.commitments()[0] if r.get("ID") in {o.id for o in built.strategy.objectives}]
    problems = []
    for row in objectives:
        if row["ID"] in unsure:
            continue
        shown = _number(row.get("Committed"))
        if abs(shown - expected[row["ID"]]) > 1e-9 * max(1.0, abs(shown)):
            problems.append(
                f"{row['ID']}: {COMMITMENTS_SHEET} says {shown:g} committed; the contributions not "
                f"flagged for their unit or direction add up to {expected[row['ID']]:g}"
            )
    assert not problems, (
        "a contribution flagged for its unit or direction is still summed into its objective's "
        "commitment:\n  " + "\n  ".join(problems)
    )


# ------------------------------------------------------------------------------------------ the tool's own outputs


def _rows(views: MasterViews, sheet: str) -> list[tuple]:
    return sorted((tuple(sorted(r.items())) for r in views.table(sheet)), key=repr)


@seed(SEED)
@EXAMPLES
@given(cycle=cycles())
@scenes
def test_tools_own_outputs_in_the_inputs_change_nothing(cycle, workspace):
    built = _built(cycle, workspace)
    if not built.outputs:
        return
    full, clean = _views(built.master), _views(built.clean_master)
    problems = []
    for sheet in (INITIATIVES, KPIS, "Check-ins", "Contributions"):
        a, b = _rows(clean, sheet), _rows(full, sheet)
        if a != b:
            extra = [dict(r) for r in b if r not in a][:2]
            problems.append(
                f"{sheet}: {len(a)} row(s) without the outputs, {len(b)} with them; e.g. "
                f"{[(r.get('Department'), r.get('Source file')) for r in extra]}"
            )
    for code, row in clean.submissions().items():
        other = full.submissions().get(code)
        if row != other:
            problems.append(f"Summary for {code}: {row} without the outputs, {other} with them")
    ignore = {"Reconciled at", "Info"}
    a = {k: v for k, v in clean.facts().items() if k not in ignore}
    b = {k: v for k, v in full.facts().items() if k not in ignore}
    if a != b:
        problems.append("Summary: " + ", ".join(f"{k} {a.get(k)} -> {b.get(k)}" for k in a if a.get(k) != b.get(k)))
    sources = {s.file: s for s in built.result.sources}
    for file, what in built.outputs.items():
        source = sources.get(file)
        said = [f for f in built.report["findings"] if f.get("file") == file]
        if (
            (source is not None and source.status == "accepted")
            or not said
            or any(f["severity"] != "info" for f in said)
        ):
            problems.append(
                f"{what} {file}: read as {source.status if source else 'nothing'} "
                f"{source.department if source else ''} ({source.reason if source else ''}); findings "
                f"{[(f['severity'], f['code']) for f in said][:4]} (expected: skipped, with one info "
                "finding saying it is cascadebook's own output)"
            )
    assert not problems, "the tool's own outputs in the inputs folder changed the result:\n  " + "\n  ".join(problems)


# ------------------------------------------------------------------------------------------ formulas


@seed(SEED)
@EXAMPLES
@given(cycle=cycles())
@scenes
def test_master_formulas_agree_with_the_values_they_show(cycle, workspace):
    """After any recalculation (Excel, LibreOffice) a cell shows its formula's value, not the value the
    master cached: the two must be the same number."""
    built = _built(cycle, workspace)
    problems = formula_disagreements(_views(built.master), ("Summary", COMMITMENTS_SHEET, "Alignment Matrix"))
    assert not problems, "a formula of the master disagrees with the value it shows:\n  " + "\n  ".join(problems)
