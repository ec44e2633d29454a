"""End to end: generate, fill as a person would, reconcile, and read the master cell by cell."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import openpyxl
import pytest

from cascadebook import load_spec, reconcile, write_master
from conftest import clean_initiative, clean_kpi


@pytest.fixture
def filled(fill):
    """Marketing fills cleanly-ish (typed text numbers, a renamed file); Sales makes mistakes; HR and
    the rest do not return."""
    fill(
        "MKT",
        "Marketing plan FINAL v2.xlsx",
        rows={
            "initiatives": [
                dict(
                    objective_id="CO1",
                    title="Account-based campaign on 50 key enterprise accounts",
                    expected_impact="150 qualified leads",
                    metric="Qualified leads",
                    unit="count",
                    baseline="40",
                    target="150",
                    due_period="Q4 2027",
                    owner="Priya Raman",
                    budget="$420k",
                    contribution_weight="60%",
                ),
                dict(
                    objective_id="co3",
                    title="Thought-leadership programme",
                    expected_impact="Awareness 48% to 60%",
                    unit="%",
                    baseline="48%",
                    target=0.6,
                    due_period="Q3",
                    owner="Jonah Avery",
                    budget="1,200",
                ),
            ],
            "kpis": [
                clean_kpi("MKT-I01", "Qualified leads per quarter"),
                clean_kpi("MKT-I02", "Pieces published", level="Individual"),
            ],
        },
    )
    fill(
        "SAL",
        "sales.xlsx",
        rows={
            "initiatives": [
                dict(
                    objective_id="CO1",
                    title="Restructure the enterprise team for solution selling",
                    expected_impact="close rate 15% to 22%",
                    baseline="15%",
                    target="22%",
                    due_period="Q3",
                    owner="Marcus Bell",
                ),
                dict(
                    objective_id="CO9",
                    title="A made-up objective",
                    expected_impact="x",
                    target="ten",
                    due_period="Q5",
                    owner=None,
                ),
                dict(
                    objective_id="CO5",
                    title="Faster delivery the wrong way",
                    expected_impact="12 days",
                    baseline=10,
                    target=12,
                    due_period="Q2",
                    owner="Ops Person",
                ),
            ],
            "kpis": [
                clean_kpi("SAL-I01", "Enterprise close rate"),
                clean_kpi("SAL-I77", "Points at nothing"),
            ],
        },
    )


def test_reconcile_finds_every_mistake_at_its_cell(strategy, key, returned, filled):
    result = reconcile(strategy, [returned], key=key, jobs=1)
    got = {(f.code, f.department, f.sheet, f.cell) for f in result.findings}
    assert ("unknown-objective", "SAL", "Initiatives", "B6") in got
    assert ("wrong-type", "SAL", "Initiatives", "H6") in got
    assert ("period-outside-cycle", "SAL", "Initiatives", "I6") in got
    assert ("required-missing", "SAL", "Initiatives", "J6") in got
    assert ("target-direction", "SAL", "Initiatives", "H7") in got
    assert ("unknown-initiative", "SAL", "KPIs", "B6") in got
    assert ("initiative-without-kpis", "SAL", "Initiatives", "A6") in got
    assert ("department-not-returned", "HR", "", "") in got
    assert ("objective-uncovered", "", "Objectives", "") in got
    wrong = next(f for f in result.findings if f.code == "wrong-type")
    assert wrong.message == "Target should be a number, found 'ten'"
    assert wrong.file == "returned/sales.xlsx"
    # Marketing's typed text became numbers; nothing of Marketing is an error.
    assert not [f for f in result.findings if f.department == "MKT" and f.severity.value == "error"]
    mkt = {r.id: r for r in result.initiatives if r.department == "MKT"}
    assert mkt["MKT-I01"].values["target"] == 150.0
    assert mkt["MKT-I01"].values["budget"] == 420000.0
    assert mkt["MKT-I01"].values["contribution_weight"] == pytest.approx(0.6)
    assert mkt["MKT-I01"].values["due_period"] == "Q4"
    assert mkt["MKT-I02"].values["objective_id"] == "CO3"
    assert mkt["MKT-I02"].values["baseline"] == pytest.approx(0.48)
    assert result.exit_code == 1


def test_master_workbook_cell_by_cell(strategy, key, returned, filled, tmp_path):
    result = reconcile(strategy, [returned], key=key, jobs=1)
    path = write_master(result, tmp_path / "out" / "master.xlsx")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == [
        "Dashboard",
        "Summary",
        "Commitments",
        "Alignment Matrix",
        "Goal Hierarchy",
        "Initiatives",
        "Contributions",
        "KPIs",
        "Decisions without an initiative",
        "Findings",
        "Sources",
    ]

    matrix = book["Alignment Matrix"]
    header = [c.value for c in matrix[1]]
    assert header[0] == "Department" and header[1].startswith("CO1 · Increase enterprise customer acquisition")
    rows = {matrix.cell(r, 1).value.split(" · ")[0]: r for r in range(2, 8)}
    assert len(rows) == 6 and matrix.cell(9, 1).value == "Initiatives per cell"
    counts = openpyxl.load_workbook(path, data_only=True)["Alignment Matrix"]
    assert [counts.cell(r, 1).value for r in range(11, 17)] == ["FIN", "HR", "MKT", "OPS", "RND", "SAL"]
    assert counts.cell(13, 2).value == 1 and counts.cell(16, 2).value == 1 and counts.cell(17, 2).value == 2
    assert matrix.cell(13, 2).value.startswith("=COUNTIFS('Contributions'!$A$2:$A$")
    col = {h.split(" · ")[0]: c for c, h in enumerate(header, 1) if h not in (None, "Department")}
    assert (
        matrix.cell(rows["MKT"], col["CO1"]).value
        == "MKT-I01 Account-based campaign on 50 key enterprise accounts → 150 qualified leads"
    )
    assert matrix.cell(rows["SAL"], col["CO1"]).value.startswith("SAL-I01 Restructure the enterprise team")
    assert matrix.cell(rows["MKT"], col["CO7"]).value is None  # a gap, shaded
    assert matrix.cell(rows["MKT"], col["CO7"]).fill.fgColor.rgb.endswith("FCE4D6")
    assert matrix.cell(rows["HR"], col["CO1"]).value == "not returned"

    hierarchy = book["Goal Hierarchy"]
    lines = [
        (hierarchy.cell(r, 1).value, hierarchy.cell(r, 2).value, hierarchy.row_dimensions[r].outline_level)
        for r in range(2, hierarchy.max_row + 1)
    ]
    assert lines[0][0] == "Vision" and lines[1][0] == "Mission"
    co1 = lines.index(("Objective", "CO1", 0))
    assert lines[co1 + 1] == ("Initiative", "MKT-I01", 1)
    assert lines[co1 + 2] == ("Team KPI", "MKT-K01", 2)
    assert ("Initiative", "SAL-I01", 1) in lines and ("Individual KPI", "MKT-K02", 2) in lines

    initiatives = book["Initiatives"]
    assert initiatives.tables["Initiatives"].ref.startswith("A1:")
    head = [c.value for c in initiatives[1]]
    assert head[:4] == ["Department", "Initiative ID", "Objective", "Initiative"]
    data = {row[1]: dict(zip(head, row)) for row in initiatives.iter_rows(min_row=2, values_only=True)}
    assert data["MKT-I01"]["Target"] == 150 and data["MKT-I01"]["Budget"] == 420000
    assert data["MKT-I01"]["Source file"] == "returned/Marketing plan FINAL v2.xlsx"
    assert data["MKT-I01"]["Source row"] == 5
    assert data["SAL-I02"]["Target"] == "ten"  # kept as typed, with a finding
    kpis = {row[1]: row for row in book["KPIs"].iter_rows(min_row=2, values_only=True)}
    kpi_head = [c.value for c in book["KPIs"][1]]
    assert kpis["MKT-K02"][kpi_head.index("Objective")] == "CO3"

    findings = book["Findings"]
    fhead = [c.value for c in findings[1]]
    frows = [dict(zip(fhead, row)) for row in findings.iter_rows(min_row=2, values_only=True)]
    hit = next(r for r in frows if r["Code"] == "required-missing")
    assert (hit["Severity"], hit["Department"], hit["Sheet"], hit["Cell"]) == ("error", "SAL", "Initiatives", "J6")
    link_row = 2 + frows.index(hit)
    link = findings.cell(link_row, fhead.index("Link") + 1).hyperlink
    assert link.target.replace("\\", "/") == "../returned/sales.xlsx"  # relative to the master's folder
    assert link.location == "'Initiatives'!J6"

    cached = openpyxl.load_workbook(path, data_only=True)
    summary = {r[0]: r[1:3] for r in cached["Summary"].iter_rows(values_only=True) if r[0]}
    assert summary["Departments returned"] == (2, "of 6")
    formulas = {r[0].value: r[1].value for r in book["Summary"].iter_rows() if r[0].value}
    # The departments returned are the Submissions table's "returned" rows (check-in files are not returns).
    assert formulas["Departments returned"] == "=COUNTIF($D$21:$D$26,\"returned\")"
    statuses = [book["Summary"].cell(r, 4).value for r in range(20, 27)]
    assert statuses[0] == "Status" and sorted(statuses[1:]).count("returned") == 2
    # A matrix cell is plain (wrapped) text; the link to its first initiative row is on its count below
    # (LibreOffice shows a linked text cell as a one-line link field).
    heat = {counts.cell(r, 1).value: r for r in range(11, 17)}
    assert matrix.cell(rows["MKT"], col["CO1"]).hyperlink is None
    assert matrix.cell(heat["MKT"], col["CO1"]).hyperlink.location == "'Initiatives'!A2"
    assert matrix.cell(heat["MKT"], col["CO1"]).value.startswith("=COUNTIFS(")  # the count stays a formula
    assert matrix.cell(heat["MKT"], col["CO7"]).hyperlink is None  # an empty cell has nothing to go to
    sources = {r[0]: r for r in book["Sources"].iter_rows(min_row=2, values_only=True)}
    assert sources["returned/sales.xlsx"][2] == "accepted"


def test_identity_comes_from_metadata_not_file_name(strategy, key, returned, fill):
    fill("MKT", "FY2027_SAL.xlsx", rows={"initiatives": [clean_initiative("CO1", "Campaign", 1, 2)]})
    result = reconcile(strategy, [returned], key=key, jobs=1)
    assert [(s.file, s.department, s.status) for s in result.sources] == [
        ("returned/FY2027_SAL.xlsx", "MKT", "accepted")
    ]
    assert [r.department for r in result.initiatives] == ["MKT"]


def test_newest_submission_wins_and_the_other_is_reported(strategy, key, returned, fill):
    fill(
        "MKT",
        "draft.xlsx",
        rows={"initiatives": [clean_initiative("CO1", "Draft idea", 1, 2)]},
        saved_at=datetime(2027, 1, 10, 9, 0),
    )
    fill(
        "MKT",
        "final.xlsx",
        rows={"initiatives": [clean_initiative("CO2", "Final idea", 1, 2)]},
        saved_at=datetime(2027, 1, 20, 9, 0),
    )
    result = reconcile(strategy, [returned], key=key, jobs=1)
    assert {s.file: s.status for s in result.sources} == {
        "returned/draft.xlsx": "superseded",
        "returned/final.xlsx": "accepted",
    }
    assert [r.get("title") for r in result.initiatives] == ["Final idea"]
    codes = [(f.code, f.file, f.rows) for f in result.findings if f.file == "returned/draft.xlsx"]
    assert ("superseded-submission", "returned/draft.xlsx", ()) in codes
    assert ("rows-not-taken", "returned/draft.xlsx", (5,)) in codes


def test_bad_files_become_findings_and_the_rest_is_reconciled(strategy, key, returned, fill):
    fill("MKT", rows={"initiatives": [clean_initiative("CO1", "Campaign", 1, 2)]})
    (returned / "empty.xlsx").write_bytes(b"")
    (returned / "random.xlsx").write_bytes(b"\x00\x01garbage" * 100)
    (returned / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    (returned / "notes.txt").write_text("call Priya")
    foreign = openpyxl.Workbook()
    foreign.active["A1"] = "Budget 2027"
    foreign.save(returned / "budget.xlsx")
    good = (returned / "MKT.xlsx").read_bytes()
    (returned / "truncated.xlsx").write_bytes(good[: len(good) // 2])
    result = reconcile(strategy, [returned], key=key, jobs=1)
    by_file = {f.file: f.code for f in result.findings if f.file}
    assert by_file["returned/empty.xlsx"] == "file-unreadable"
    assert by_file["returned/random.xlsx"] == "file-unreadable"
    assert by_file["returned/old.xls"] == "legacy-format"
    assert by_file["returned/notes.txt"] == "skipped-file"
    assert by_file["returned/budget.xlsx"] == "not-a-template"
    assert by_file["returned/truncated.xlsx"] == "file-unreadable"
    assert [r.id for r in result.initiatives] == ["MKT-I01"]


def test_edited_metadata_breaks_the_signature(strategy, key, templates, returned):
    book = openpyxl.load_workbook(templates["MKT"])
    meta = book["_cascadebook"]
    for row in meta.iter_rows():
        if row[0].value == "department":
            row[1].value = "SAL"
    book["Initiatives"]["B5"] = "CO1"
    book.save(returned / "forged.xlsx")
    result = reconcile(strategy, [returned], key=key, jobs=1)
    assert [(f.code, f.department) for f in result.findings if f.file][:1] == [("signature-mismatch", "SAL")]
    assert result.sources[0].status == "rejected"
    assert not result.initiatives


def test_other_cycle_and_stale_templates(strategy, key, workdir, returned):
    from dataclasses import replace

    from cascadebook import generate
    from fill import fill_workbook

    old = generate(replace(strategy, cycle="FY2026"), workdir / "old", departments=["MKT"], key=key)[0]
    fill_workbook(old, returned / "old.xlsx", rows={"initiatives": [clean_initiative("CO1", "Old", 1, 2)]})
    changed = replace(strategy, objectives=strategy.objectives[:-1])
    stale = generate(changed, workdir / "stale", departments=["SAL"], key=key)[0]
    fill_workbook(stale, returned / "stale.xlsx", rows={"initiatives": [clean_initiative("CO1", "New", 1, 2)]})
    result = reconcile(strategy, [returned], key=key, jobs=1)
    codes = {(f.code, f.file) for f in result.findings}
    assert ("other-cycle", "returned/old.xlsx") in codes
    assert ("rows-not-taken", "returned/old.xlsx") in codes
    assert ("stale-template", "returned/stale.xlsx") in codes
    assert [r.department for r in result.initiatives] == ["SAL"]


def test_without_the_key_signatures_are_unverified_not_rejected(strategy, returned, fill):
    fill("MKT", rows={"initiatives": [clean_initiative("CO1", "Campaign", 1, 2)]})
    result = reconcile(strategy, [returned], key=None, jobs=1)
    assert "signature-unverified" in {f.code for f in result.findings}
    assert [r.id for r in result.initiatives] == ["MKT-I01"]


def test_rows_added_below_the_prefilled_ids_get_new_ids(strategy, key, returned, fill):
    fill(
        "MKT",
        cells={
            "Initiatives!B30": "CO2",
            "Initiatives!C30": "Extra idea",
            "Initiatives!D30": "impact",
            "Initiatives!H30": 3,
            "Initiatives!I30": "Q2",
            "Initiatives!J30": "Someone",
        },
        rows={"initiatives": [clean_initiative("CO1", "Campaign", 1, 2)]},
    )
    result = reconcile(strategy, [returned], key=key, jobs=1)
    assert [(r.id, r.row) for r in result.initiatives] == [("MKT-I01", 5), ("MKT-I13", 30)]
    assert ("id-assigned", "Initiatives", "A30") in {(f.code, f.sheet, f.cell) for f in result.findings}


def test_nothing_is_lost_rows_in_equal_rows_out(strategy, key, returned, filled, fill, tmp_path):
    fill(
        "MKT",
        "older.xlsx",
        rows={"initiatives": [clean_initiative("CO1", "Old", 1, 2)] * 3},
        saved_at=datetime(2026, 12, 1),
    )
    result = reconcile(strategy, [returned], key=key, jobs=1)
    master = openpyxl.load_workbook(write_master(result, tmp_path / "m.xlsx"), read_only=True)

    spec = load_spec()

    def input_rows(path: Path) -> int:
        book = openpyxl.load_workbook(path, read_only=True)
        count = 0
        for sheet in spec.sheets:
            inputs = [i for i, c in enumerate(sheet.columns) if c.is_input]  # not the prefilled ids or checks
            for row in book[sheet.title].iter_rows(min_row=5, values_only=True):
                if any(row[i] not in (None, "") for i in inputs):
                    count += 1
        return count

    rows_in = sum(input_rows(p) for p in returned.glob("*.xlsx"))
    rows_out = sum(master[t].max_row - 1 for t in ("Initiatives", "KPIs"))
    named = sum(len(f.rows) for f in result.findings if f.code == "rows-not-taken")
    assert rows_in == 9 + 3
    assert rows_out + named == rows_in
