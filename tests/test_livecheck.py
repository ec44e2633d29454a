"""Live checks: templates filled with damaged rows, recalculated by LibreOffice, agree with reconcile.

One module-scoped batch: six departments filled with openpyxl (each kind of mistake alone, mistakes
combined on one row, values only reconcile can read, a clean plan, a plan without KPIs, nothing at
all), plus a copy of one of them carrying the red-cell conditions as plain formulas, all converted by
one headless LibreOffice call that recalculates on load. The Check column, the red cells and the
status panel must say exactly what reconcile's row findings say, row for row.
"""

from __future__ import annotations

import re
import shutil
from collections import Counter
from pathlib import Path

import openpyxl
import pytest

from cascadebook import generate, load_key, load_spec, load_strategy, reconcile
from cascadebook.findings import CATALOGUE
from cascadebook.intake.rules import ROW_RULES
from cascadebook.intake.sheet_checks import sheet_checks
from cascadebook.kinds import CHECK_HEADER
from cascadebook.template.department import HEADER_ROW, NOTHING_YET, READY, _count_cells, _started_cell
from cascadebook.xlsx.addresses import column_letter
from conftest import SAMPLE_STRATEGY, clean_initiative, clean_kpi
from fill import fill_workbook
from libreoffice import convert

needs_libreoffice = pytest.mark.libreoffice  # skipped without soffice, failed under CI (conftest.py)

SPEC = load_spec()
PROBE_COLUMN = 60  # probe formulas (the red-cell conditions) go this far right in the probe copy


def ini(objective, title, baseline, target, **extra):
    return clean_initiative(objective, title, baseline, target, **extra)


FILLS = {
    # Each kind of mistake alone, one a row.
    "MKT": dict(
        rows={
            "initiatives": [
                ini("CO1", "Clean", 1, 2),
                ini("CO1", "Owner missing", 1, 2, owner=None),
                ini("CO1", "Target is words", 1, "ten"),
                ini("CO9", "Objective unknown", 1, 2),
                ini("CO1", "Target goes down on an increase objective", 10, 5),
                ini("CO1", "Period outside the cycle", 1, 2, due_period="Q5"),
                ini("CO1", "Period that is not a period", 1, 2, due_period="soon"),
                ini("CO1", "Budget only reconcile can read", 1, 2, budget="$250k"),
                ini("CO1", "Nobody measures this", 1, 2),
            ],
            "kpis": [
                *[clean_kpi(f"MKT-I0{n}", f"Clean {n}") for n in range(1, 9)],
                clean_kpi("MKT-I77", "Initiative unknown"),
                clean_kpi("MKT-I11", "Initiative row left empty"),
                clean_kpi("MKT-I01", "Level not from the list", level="Manager"),
                clean_kpi("MKT-I01", "Owner missing", owner=None),
                clean_kpi("MKT-I01", "Target is words", target="five"),
                clean_kpi("MKT-I01", "Frequency not from the list", frequency="Daily"),
                clean_kpi("MKT-I01", "Period only reconcile can read", due_period="Q3 2027"),
            ],
        },
        cells={  # below the prefilled ids: an id typed twice
            **{f"Initiatives!{c}17": v for c, v in zip("ABCDHIJ", ["MKT-I02", "CO1", "Copy", "x", 3, "Q2", "Me"])},
            **{f"KPIs!{c}35": v for c, v in zip("ABCEFI", ["MKT-K01", "MKT-I01", "Team", "Me", "Copy", 4])},
        },
    ),
    # Mistakes combined on one row.
    "SAL": dict(
        rows={
            "initiatives": [
                ini(None, None, 1, "lots", due_period="Q9", owner=None, budget="1,200", contribution_weight="15%"),
                ini("co2", "Case and a share going down", 0.5, 0.4, unit="COUNT", headcount="-", notes="+B5*2"),
                ini("CO5", "Target typed as text, and the wrong way", 10, "12", contribution="n/a"),
                ini("  CO3 ", "Impact left blank", 1, 2, expected_impact="   "),
                ini("n/a", "Objective and target n/a", 1, "N/A"),
            ],
            "kpis": [
                clean_kpi("SAL-I01", "Points at an initiative without a title"),
                clean_kpi("SAL-I02", "Owner missing, target words", level="team", owner=None, target="x"),
                clean_kpi("sal-i03", "Unit and period wrong", unit="bananas", due_period="soon"),
                clean_kpi("SAL-I99", None, level=None),
                clean_kpi("SAL-I04", "Clean"),
            ],
        }
    ),
    # What people type that both sides accept, or that only reconcile reads.
    "RND": dict(
        rows={
            "initiatives": [
                ini("CO1", "Numbers typed as text", "40", "150", budget="$420k", contribution_weight="60%"),
                ini(
                    "CO3",
                    "A percent typed as 15 and a lower-case period",
                    0.48,
                    0.6,
                    contribution_weight=15,
                    due_period="q3",
                ),
                ini("CO6", "A unit with a trailing space", 31, 40, unit="Count "),
            ],
            "kpis": [
                clean_kpi("RND-I01", "Clean"),
                clean_kpi("RND-I02", "Level in capitals", level="INDIVIDUAL"),
                clean_kpi("RND-I03", "Period as a number", due_period=3),
            ],
        },
        cells={f"Initiatives!{c}20": v for c, v in zip("BCDHIJ", ["CO2", "Added without an id", "x", 3, "Q2", "Me"])},
    ),
    # Initiatives without any KPI yet.
    "FIN": dict(rows={"initiatives": [ini("CO4", "Close faster", 10, 20), ini("CO6", "Service", 31, 45)]}),
    # Clean and complete: ready to send.
    "OPS": dict(
        rows={
            "initiatives": [
                ini("CO5", "Ship from stock", 10, 8, budget=120000, headcount=2, contribution_weight=0.5),
                ini("CO1", "Key accounts", 60, 66, notes="Shared with Sales"),
            ],
            "kpis": [
                clean_kpi("OPS-I01", "On-time delivery"),
                clean_kpi("OPS-I02", "Visits", level="Individual"),
                clean_kpi("OPS-I01", "Stock turns"),
            ],
        }
    ),
}

# A template prefilled from last cycle's master (generate --from), with last cycle's problems in it.
PREFILL = {
    "initiatives": [
        ini("CO1", "Carried over", 1, 2),
        ini("CO5", "Now the wrong way", 10, 12, budget="1,200"),
        ini("CO9", "Objective dropped", 1, 2, owner=None),
    ],
    "kpis": [clean_kpi("HR-I01", "Carried over"), clean_kpi("HR-I02", "Also carried"), clean_kpi("HR-I07", "Orphan")],
}


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """Templates generated and filled (no LibreOffice yet), and what reconcile makes of the filled ones."""
    root = tmp_path_factory.mktemp("livecheck")
    shutil.copyfile(SAMPLE_STRATEGY, root / "strategy.yaml")
    strategy = load_strategy(root / "strategy.yaml")
    key = load_key(root / "strategy.yaml", create=True)
    templates = {
        p.stem.split("_")[-1]: p
        for p in generate(strategy, root / "outbox", key=key, generated_at="2027-01-04T09:00:00+00:00")
    }
    returned = root / "returned"
    filled = {
        code: fill_workbook(templates[code], returned / f"{code}.xlsx", **kwargs) for code, kwargs in FILLS.items()
    }
    probe = _probe(filled["MKT"], root / "probe" / "MKT-probe.xlsx", strategy)
    [prefilled] = generate(
        strategy,
        root / "prefilled",
        key=key,
        departments=["HR"],
        prefill={"HR": PREFILL},
        generated_at="2027-01-04T09:00:00+00:00",
    )
    templates["HR-prefilled"] = prefilled.rename(prefilled.with_name("HR-prefilled.xlsx"))
    result = reconcile(strategy, [returned], key=key, jobs=1)
    batch = {**filled, "probe": probe, "HR": templates["HR"], "HR-prefilled": templates["HR-prefilled"]}
    return strategy, templates, result, batch, root


@pytest.fixture(scope="module")
def world(written):
    """The same, with every workbook recalculated by LibreOffice in one soffice call."""
    strategy, templates, result, batch, root = written
    recalculated = convert(list(batch.values()), "xlsx", root / "recalc")
    books = {name: openpyxl.load_workbook(path, data_only=True) for name, path in zip(batch, recalculated)}
    return strategy, templates, books, result


def live(strategy, sheet):
    return sheet_checks(SPEC, sheet.key, tuple(strategy.periods), HEADER_ROW)


def _probe(source: Path, target: Path, strategy) -> Path:
    """A copy whose cells far right hold each red-cell condition, one column per check, for every row."""
    book = openpyxl.load_workbook(source)
    for sheet in SPEC.sheets:
        checks = live(strategy, sheet)
        ws = book[sheet.title]
        for i, check in enumerate(checks.checks):
            test = checks.cf_formula(check)[1:]  # the conditional format's formula, for the first row
            for row in range(checks.first, checks.first + 40):
                ws.cell(row, PROBE_COLUMN + i, "=" + _shift(test, checks.first, row))
    target.parent.mkdir(parents=True, exist_ok=True)
    book.save(target)
    return target


def _shift(formula: str, first: int, row: int) -> str:
    """Move a formula written for the first data row to ``row``, as a conditional format does."""
    return re.sub(
        r"(?<![A-Za-z$])(\$?[A-Z]{1,3})" + str(first) + r"(?![0-9])", lambda m: m.group(1) + str(row), formula
    )


def row_findings(result, code: str, sheet_title: str) -> dict[int, list]:
    out: dict[int, list] = {}
    for f in result.findings:
        if f.file == f"returned/{code}.xlsx" and f.sheet == sheet_title and f.cell:
            out.setdefault(int(re.sub(r"\D", "", f.cell)), []).append(f)
    return out


def expected_rows(strategy, result, code: str) -> dict[str, dict[int, list]]:
    """Per sheet key and row: the checks the sheet should show, from reconcile's findings."""
    out = {}
    for sheet in SPEC.sheets:
        checks = live(strategy, sheet)
        found = row_findings(result, code, sheet.title)
        out[sheet.key] = {row: checks.expected(found.get(row, ())) for row in range(checks.first, checks.last + 1)}
    return out


@needs_libreoffice
@pytest.mark.parametrize("code", [*FILLS])
def test_check_column_says_what_reconcile_says_row_for_row(world, code):
    strategy, _, books, result = world
    expected = expected_rows(strategy, result, code)
    for sheet in SPEC.sheets:
        checks = live(strategy, sheet)
        ws = books[code][sheet.title]
        assert ws.cell(HEADER_ROW, checks.column + 1).value == CHECK_HEADER
        got = {row: ws.cell(row, checks.column + 1).value or "" for row in range(checks.first, checks.last + 1)}
        want = {row: "; ".join(c.message for c in found) for row, found in expected[sheet.key].items()}
        assert got == want, sheet.title


@needs_libreoffice
def test_the_corpus_has_every_kind_of_mistake_the_sheet_checks(world):
    strategy, _, _, result = world
    shown = Counter(
        c.code
        for code in FILLS
        for rows in expected_rows(strategy, result, code).values()
        for found in rows.values()
        for c in found
    )
    every = {c.code for sheet in SPEC.sheets for c in live(strategy, sheet).checks}
    assert set(shown) == every
    reconciled = {f.code for f in result.findings}
    assert {"read-leniently", "wrong-type", "period-outside-cycle", "untitled-initiative"} <= reconciled
    # mistakes reconcile reports that the sheet deliberately leaves to the return
    assert {"formula-text", "id-assigned", "value-interpreted"} <= reconciled


@needs_libreoffice
@pytest.mark.parametrize("code", [*FILLS, "HR"])
def test_status_panel_counts_agree_with_reconcile(world, code):
    strategy, _, books, result = world
    book = books[code]
    expected = expected_rows(strategy, result, code) if code != "HR" else {s.key: {} for s in SPEC.sheets}
    started = {s.key: {r.row for r in result.records[s.key] if r.department == code} for s in SPEC.sheets}
    total = sum(len(found) for rows in expected.values() for found in rows.values())
    if not any(started.values()):
        headline = NOTHING_YET
    elif total == 0:
        headline = READY
    else:
        headline = f"{total} problem{'s' if total != 1 else ''} to fix before sending"
    instructions = book["Instructions"]
    assert instructions["B3"].value == headline
    for i, sheet in enumerate(SPEC.sheets):
        checks = live(strategy, sheet)
        ws = book[sheet.title]
        kinds = Counter(c.code for found in expected[sheet.key].values() for c in found)
        counts = {kind: ws[cell.replace("$", "")].value for kind, cell in _count_cells(checks)}
        assert counts == {kind: kinds.get(kind, 0) for kind in checks.kinds}, sheet.title
        assert ws[_started_cell(checks).replace("$", "")].value == len(started[sheet.key])
        details = " · ".join(f"{CATALOGUE[k].title}: {kinds[k]}" for k in checks.kinds if kinds.get(k))
        line = ws["A3"].value
        assert line.startswith(headline)
        if details:
            assert line == f"{headline} — on this sheet: {details}. The Check column ({checks.letter}) says where."
        else:
            assert line == headline
        summary = instructions.cell(4 + i, 2).value
        assert instructions.cell(4 + i, 1).value == sheet.title
        assert summary == (details or ("Nothing to fix" if started[sheet.key] else NOTHING_YET))


@needs_libreoffice
def test_clean_complete_plan_is_ready_to_send(world):
    _, _, books, result = world
    book = books["OPS"]
    assert book["Instructions"]["B3"].value == READY
    assert book["Initiatives"]["A3"].value == READY and book["KPIs"]["A3"].value == READY
    assert not [
        f
        for f in result.findings
        if f.department == "OPS" and CATALOGUE[f.code].scope == "row" and f.severity.value != "info"
    ]


@needs_libreoffice
@pytest.mark.parametrize("name", ["HR", "HR-prefilled"])
def test_cached_values_are_what_the_generated_template_recalculates_to(world, name):
    """A viewer that does not recalculate shows the generated template's cached values: they must be right,
    for an empty template and for one prefilled from last cycle's master (worked out by reconcile's rules)."""
    _, templates, books, _ = world
    cached = openpyxl.load_workbook(templates[name], data_only=True)
    formulas = openpyxl.load_workbook(templates[name])
    checked = []
    for ws in formulas.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value.startswith("="):
                    want = books[name][ws.title][cell.coordinate].value
                    assert (cached[ws.title][cell.coordinate].value or "") == (want or ""), (ws.title, cell.coordinate)
                    checked.append(want)
    assert len(checked) > sum(s.input_rows for s in SPEC.sheets)
    headline = books[name]["Instructions"]["B3"].value
    assert headline == (NOTHING_YET if name == "HR" else "6 problems to fix before sending")


@needs_libreoffice
def test_red_cells_are_the_cells_the_check_column_names(world):
    """The conditional formats' conditions, evaluated by LibreOffice, flag exactly the expected cells.

    They read the row's Check cell (no other sheet: Google Sheets refuses that in a conditional format).
    """
    strategy, _, books, result = world
    expected = expected_rows(strategy, result, "MKT")
    for sheet in SPEC.sheets:
        checks = live(strategy, sheet)
        ws = books["probe"][sheet.title]
        for row in range(checks.first, checks.first + 40):
            red = [c.message for i, c in enumerate(checks.checks) if ws.cell(row, PROBE_COLUMN + i).value is True]
            assert red == [c.message for c in expected[sheet.key][row]], (sheet.title, row)


def test_red_cells_are_conditional_formats_on_the_checked_columns(written):
    strategy, templates, *_ = written
    book = openpyxl.load_workbook(templates["MKT"])
    for sheet in SPEC.sheets:
        checks = live(strategy, sheet)
        rules = {
            (str(rng.sqref), rule.formula[0]) for rng in book[sheet.title].conditional_formatting for rule in rng.rules
        }
        for check in checks.checks:
            letter = column_letter(sheet.columns.index(sheet.column(check.key)) + 1)
            assert (f"{letter}{checks.first}:{letter}{checks.last}", checks.cf_formula(check)[1:]) in rules


def test_formulas_are_portable_light_and_written_as_xlsxwriter_would(written):
    """Functions Excel 2016, LibreOffice and Google Sheets share; nothing volatile; no whole columns."""
    from xlsxwriter.worksheet import Worksheet

    strategy, templates, *_ = written
    book = openpyxl.load_workbook(templates["MKT"])
    allowed = {
        "IF",
        "AND",
        "NOT",
        "LEN",
        "TRIM",
        "LOWER",
        "MID",
        "FIND",
        "ISNUMBER",
        "INT",
        "SIGN",
        "INDEX",
        "MATCH",
        "SUMPRODUCT",
        "SUM",
        "LEFT",
        "SEARCH",
    }
    formulas = [
        c.value
        for ws in book.worksheets
        for row in ws.iter_rows()
        for c in row
        if isinstance(c.value, str) and c.value.startswith("=")
    ]
    formulas += [rule.formula[0] for ws in book.worksheets for rng in ws.conditional_formatting for rule in rng.rules]
    used = {name for f in formulas for name in re.findall(r"([A-Z][A-Z0-9.]*)\(", re.sub(r'"[^"]*"', '""', f))}
    assert used <= allowed, used - allowed
    for f in formulas:
        unquoted = re.sub(r'"[^"]*"', '""', f)
        assert not re.search(r"(?<![A-Za-z0-9_])\$?[A-Z]{1,3}:\$?[A-Z]{1,3}(?![0-9])", unquoted), f  # A:A
        assert "{" not in unquoted, f  # no array constants
    for sheet in SPEC.sheets:
        ws, checks = book[sheet.title], live(strategy, sheet)
        column = [ws.cell(r, checks.column + 1).value for r in range(checks.first, checks.last + 2)]
        assert all(v and v.startswith("=IF(LEN(TRIM(") for v in column[:-1]) and column[-1] is None
        assert len(checks.at(checks.check_formula, checks.last)) < 8192  # Excel's formula length limit
        # PlainFormulaWorksheet (xlsx/internals.py) skips xlsxwriter's renaming: it must change none of our formulas
        for f in (checks.at(checks.check_formula, checks.first), *(checks.cf_formula(c) for c in checks.checks)):
            assert Worksheet._prepare_formula(Worksheet(), f) == f[1:]


def test_every_rule_code_is_in_the_catalogue_and_row_level():
    for rule in ROW_RULES:
        for code in rule.codes:
            assert CATALOGUE[code].scope == "row", code
        assert rule.sheet_codes <= set(rule.codes)
