"""Issue 15, items 2 and 10: no view of the master drops a row without a word, and a contribution in
the wrong unit or direction is not summed.

Templates generated from the samples' strategy are filled with openpyxl the way people fill them: an
initiative whose objective id is unknown, one with no objective, a duplicate id, a budget typed as
words, a contribution in percentage points for a percentage objective, a split over objectives of
different units, a split with an unknown part and one short of 100%, a contribution against the
objective's direction, KPIs under an unaligned initiative and a KPI whose initiative does not exist.
The master is then read back cell by cell: the Summary, the Alignment Matrix, the Goal Hierarchy, the
tables and the Commitments must reconcile to each other (plain and packed rows, and after LibreOffice
recalculates every formula).
"""

from __future__ import annotations

from collections import Counter

import openpyxl
import pytest

from cascadebook import reconcile, write_master
from cascadebook.spec.schema import load_spec
from conftest import clean_initiative, clean_kpi
from libreoffice import convert

needs_libreoffice = pytest.mark.libreoffice  # skipped without soffice, failed under CI (conftest.py)
SPEC = load_spec("department")
INITIATIVES, KPIS = SPEC.sheet("initiatives"), SPEC.sheet("kpis")


def header(sheet, key: str) -> str:
    return sheet.column(key).header


@pytest.fixture
def result_of(strategy, key, fill, returned):
    fill(
        "MKT",
        rows={
            "initiatives": [
                clean_initiative("CO1", "ABM campaign", 60, 66, contribution=6, budget=500_000, headcount=2),  # I01
                clean_initiative("CO9", "Unknown objective", 1, 2, contribution=5, budget=100_000, headcount=1),  # I02
                clean_initiative(None, "No objective", 1, 2, budget=50_000, headcount=0.5),  # I03
                clean_initiative("CO3", "Awareness in points", 0.48, 0.6, contribution=312, budget=20_000),  # I04
                clean_initiative(
                    "CO1",
                    "Mixed units",
                    1,
                    2,
                    contribution=4,
                    objective_split="CO1 50% / CO3 50%",  # I05
                    budget=40_000,
                ),
                clean_initiative(
                    "CO2",
                    "Half unknown",
                    1,
                    2,
                    objective_split="CO2 60% / CO99 40%",  # I06
                    budget=100_000,
                    headcount=1,
                ),
                clean_initiative("CO1", "Short split", 1, 2, objective_split="CO1 50% / CO5 40%", budget=10_000),  # I07
            ],
            "kpis": [
                clean_kpi("MKT-I01", "Leads"),
                clean_kpi("MKT-I02", "Under the unknown objective"),
                clean_kpi("MKT-I03", "Under no objective", level="Individual"),
                clean_kpi("MKT-I99", "Initiative that does not exist"),
            ],
        },
    )
    fill(
        "OPS",
        rows={
            "initiatives": [
                clean_initiative("CO5", "Wrong way", 10, 9, contribution=0.5, budget=300_000, headcount=3),  # I01
                clean_initiative("CO5", "Right way", 10, 9, contribution=-1, budget="lots", headcount=1),  # I02
                clean_initiative("CO4", "Same id twice", 1, 2, id="OPS-I01", budget=25_000),  # dup
            ],
            "kpis": [clean_kpi("OPS-I01", "On time"), clean_kpi("OPS-I02", "Orders")],
        },
    )
    fill(
        "SAL",
        rows={
            "initiatives": [clean_initiative("CO4", "Value selling", 1, 2, contribution=1_000_000, budget=80_000)],
            "kpis": [clean_kpi("SAL-I01", "Deal size")],
        },
    )

    def _result(pack_above=None):
        return reconcile(strategy, [returned], key=key, jobs=1, pack_above=pack_above)

    return _result


def _table(ws) -> list[dict]:
    rows = list(ws.iter_rows(values_only=True))
    return [dict(zip(rows[0], row)) for row in rows[1:] if any(v not in (None, "") for v in row)]


def _summary(ws) -> tuple[dict, dict]:
    facts = {row[0]: row[1] for row in ws.iter_rows(max_row=20, values_only=True) if row[0]}
    rows = list(ws.iter_rows(values_only=True))
    top = next(i for i, row in enumerate(rows) if row[0] == "Code")
    per_department = {row[0]: dict(zip(rows[top], row)) for row in rows[top + 1 :] if row[0]}
    return facts, per_department


def _matrix(ws):
    rows = list(ws.iter_rows(values_only=True))
    head = rows[0]
    cells: dict[str, dict[str, str]] = {}  # department code -> column header -> text
    r = 1
    while rows[r][0]:
        cells[rows[r][0].split(" · ")[0]] = {h: v for h, v in zip(head, rows[r]) if h}
        r += 1
    top = next(i for i, row in enumerate(rows) if row[0] == "Initiatives per cell") + 1
    heat_head = rows[top]
    heat = {row[0]: dict(zip(heat_head, row)) for row in rows[top + 1 :] if row[0] and row[0] != heat_head[0]}
    return head, cells, heat


def check_master(book, result) -> None:
    """Every view that counts rows reconciles with the others; nothing typed is missing from one."""
    facts, submissions = _summary(book["Summary"])
    initiatives, kpis = _table(book[INITIATIVES.title]), _table(book[KPIS.title])
    contributions = _table(book["Contributions"])
    init_id, kpi_id = header(INITIATIVES, "id"), header(KPIS, "id")
    budget_h, headcount_h = header(INITIATIVES, "budget"), header(INITIATIVES, "headcount")
    typed = {(r["Department"], r[init_id]) for r in initiatives}
    assert len(initiatives) == len(result.initiatives) == facts["Initiatives"] == 11
    assert len(kpis) == len(result.kpis) == facts["KPIs"] == 7
    numbers = lambda rows, h: sum(r[h] for r in rows if isinstance(r[h], (int, float)))  # noqa: E731
    assert facts["Budget requested"] == pytest.approx(numbers(initiatives, budget_h)) == 1_225_000
    assert facts["Headcount requested"] == pytest.approx(numbers(initiatives, headcount_h)) == 8.5
    per_department = Counter(r["Department"] for r in initiatives)
    kpis_per_department = Counter(r["Department"] for r in kpis)
    for code, row in submissions.items():
        assert row["Initiatives"] == per_department.get(code, 0), code
        assert (row["KPIs"] or 0) == kpis_per_department.get(code, 0), code
        shares = [c for c in contributions if c["Department"] == code]  # every initiative's whole budget
        assert (row["Budget"] or 0) == pytest.approx(sum(c["Budget"] or 0 for c in shares)), code
        assert (row["Headcount"] or 0) == pytest.approx(sum(c["Headcount"] or 0 for c in shares)), code

    # Alignment Matrix: every initiative is in a cell (the unaligned ones in their own column), and the
    # counts add up to the Summary's.
    head, cells, heat = _matrix(book["Alignment Matrix"])
    unaligned_header = next(h for h in head if h and h.startswith("Unaligned"))
    assert unaligned_header == "Unaligned (objective not recognised)"
    in_cells = {
        (code, line.split(" ")[0])
        for code, row in cells.items()
        for h, text in row.items()
        if h not in ("Department", "Initiatives") and isinstance(text, str) and text != "not returned"
        for line in text.split("\n")
    }
    assert in_cells == typed
    assert {line.split(" ")[0] for line in cells["MKT"][unaligned_header].split("\n")} == {
        "MKT-I02",
        "MKT-I03",
        "MKT-I06",
        "MKT-I07",
    }
    for code, row in cells.items():
        assert row["Initiatives"] == submissions[code]["Initiatives"] == heat[code]["Initiatives"], code
        shares = sum(1 for c in contributions if c["Department"] == code)
        assert (
            heat[code]["Total"]
            == shares
            == sum(v for h, v in heat[code].items() if h not in ("Department", "Total", "Initiatives"))
        ), code
        assert heat[code]["Unaligned"] == sum(
            1 for c in contributions if c["Department"] == code and c["Objective"] == "Unaligned"
        )
    assert heat["Total"]["Initiatives"] == facts["Initiatives"] == len(initiatives)
    assert heat["Total"]["Total"] == len(contributions) and heat["Total"]["Unaligned"] == 4

    # Goal Hierarchy: every initiative and every KPI, the unaligned and unattached in sections of their own.
    hierarchy = list(book["Goal Hierarchy"].iter_rows(min_row=2, values_only=True))
    assert {(r[3], r[1]) for r in hierarchy if r[0] == "Initiative"} == typed
    assert {(r[3], r[1]) for r in hierarchy if str(r[0]).endswith("KPI")} == {
        (r["Department"], r[kpi_id]) for r in kpis
    }
    levels = [r[0] for r in hierarchy]
    unaligned, unattached = levels.index("Unaligned"), levels.index("Unattached")
    assert hierarchy[unaligned][2] == "Unaligned (objective not recognised)"
    assert [r[1] for r in hierarchy[unaligned + 1 : unattached]] == [
        "MKT-I02",
        "MKT-K02",
        "MKT-I03",
        "MKT-K03",
        "MKT-I06",
        "MKT-I07",
    ]
    assert [(r[1], r[2]) for r in hierarchy[unattached + 1 :]] == [("MKT-K04", "Initiative that does not exist")]

    # Commitments: the objectives' budget and headcount plus the Unaligned line are the Summary's.
    commitments = {r["ID"]: r for r in _table(book["Commitments"])}
    line = commitments["Unaligned"]
    assert line["Objective"] == "Unaligned (objective not recognised)"
    # by hand: MKT-I02 100,000, MKT-I03 50,000, 40% of MKT-I06's 100,000, 10% of MKT-I07's 10,000
    assert line["Budget"] == pytest.approx(100_000 + 50_000 + 40_000 + 1_000)
    assert line["Headcount"] == pytest.approx(1 + 0.5 + 0.4)
    assert line["Initiatives"] == 4 and line["Departments"] == "MKT"
    assert line["Left out"] == 1 and line["Why left out"] == "1 contribution left out: objective not recognised"
    assert commitments["Total"]["Budget"] == pytest.approx(facts["Budget requested"])
    assert commitments["Total"]["Headcount"] == pytest.approx(facts["Headcount requested"])
    objectives = [r for k, r in commitments.items() if k not in ("Unaligned", "Total")]
    assert sum(r["Budget"] for r in objectives) + line["Budget"] == pytest.approx(facts["Budget requested"])

    # Item 10: what is flagged for its unit or direction is not summed, and the line says so.
    co3, co1, co5 = commitments["CO3"], commitments["CO1"], commitments["CO5"]
    assert co3["Committed"] == 0 and co3["Left out"] == 2  # 312 "points", and the split over count and %
    assert co3["Why left out"] == "2 contributions left out: unit"
    assert co1["Committed"] == 6 and co1["Left out"] == 1 and co1["Why left out"] == "1 contribution left out: unit"
    assert co5["Committed"] == -1 and co5["Left out"] == 1  # OPS's +0.5 against a decrease is not summed
    assert co5["Why left out"] == "1 contribution left out: direction"
    assert commitments["CO4"]["Left out"] == 0 and commitments["CO4"]["Why left out"] in ("", None)
    wrong_unit = next(c for c in contributions if c["Initiative ID"] == "MKT-I04")
    assert wrong_unit["Contribution"] is None and wrong_unit["Left out"] == 312 and wrong_unit["Why left out"] == "unit"
    assert commitments["Total"]["Left out"] == 2 + 1 + 1 + 1  # CO3, CO1, CO5 and MKT-I02's under Unaligned

    # The KPIs table says which objective a KPI's initiative serves, "Unaligned" when none does.
    objective_of = {r[kpi_id]: r["Objective"] for r in kpis}
    assert objective_of["MKT-K02"] == objective_of["MKT-K03"] == "Unaligned" and objective_of["MKT-K04"] is None


@pytest.mark.parametrize("pack_above", [None, 0])  # plain rows, and packed ones (as past 2,000 workbooks)
def test_every_view_counts_every_row(result_of, tmp_path, pack_above):
    result = result_of(pack_above)
    assert any(rows.is_packed for rows in result.records.values()) == (pack_above == 0)
    codes = Counter(f.code for f in result.findings)
    for code in (
        "unknown-objective",
        "required-missing",
        "duplicate-initiative",
        "wrong-type",
        "contribution-unit",
        "contribution-direction",
        "split-not-100",
        "unknown-initiative",
    ):
        assert codes[code], code  # a master with every kind of row finding
    path = write_master(result, tmp_path / "master.xlsx")
    check_master(openpyxl.load_workbook(path, data_only=True), result)


def test_findings_say_what_was_left_out(result_of):
    result = result_of()
    messages = {(f.code, f.location or f.cell): f.message for f in result.findings}
    assert (
        messages[("commitment-shortfall", "CO3")]
        == "departments commit 0 points of the 27 points CO3 needs (0%); 2 contributions left out: unit"
    )
    assert (
        messages[("commitment-shortfall", "CO5")]
        == "departments commit -1 days of the -2 days CO5 needs (50%); 1 contribution left out: direction"
    )
    unit = [f for f in result.findings if f.code == "contribution-unit"]
    assert {(f.department, f.cell) for f in unit} == {("MKT", "N8"), ("MKT", "N9")}
    assert all("not summed" in f.message for f in unit)
    by_id = {c.objective.id: c for c in result.commitments}
    assert by_id["CO3"].committed == 0 and by_id["CO3"].left_out == (("unit", 2),)


def test_plain_and_packed_masters_are_the_same_bytes(result_of, tmp_path):
    import zipfile

    def parts(path):
        with zipfile.ZipFile(path) as z:
            return {n: z.read(n) for n in z.namelist() if n != "docProps/core.xml"}

    plain, packed = result_of(), result_of(0)
    for result in (plain, packed):
        result.generated_at = "2027-01-04T09:00:00+00:00"
    assert parts(write_master(plain, tmp_path / "plain.xlsx")) == parts(write_master(packed, tmp_path / "packed.xlsx"))


@needs_libreoffice
def test_the_views_still_reconcile_after_libreoffice_recalculates(result_of, tmp_path):
    result = result_of()
    path = write_master(result, tmp_path / "master.xlsx")
    recalculated = convert([path], "xlsx", tmp_path / "lo")[0]
    check_master(openpyxl.load_workbook(recalculated, data_only=True), result)
