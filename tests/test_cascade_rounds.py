"""Cascade rounds (issue 20): ``generate --from MASTER --cascade`` writes templates aligned to the parent's
plan, and reconcile checks every level against its parent's plan and rolls commitments up the chain.

An organisation of four units: COM (level 1, aligned to the corporate objectives), MKT under COM and WEB under
MKT (both aligned to their parent's plan), SAL under COM (aligned straight to the objectives). Round 1: COM
returns; round 2: MKT's template offers COM's initiatives; round 3: WEB's offers MKT's. Every figure below is
worked out by hand from the rows typed."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from cascadebook import generate, load_key, load_strategy, reconcile, write_master
from cascadebook.cycle.cascade_round import generate_cascade
from cascadebook.kinds import PARENT_PLAN_SHEET
from cascadebook.parent_plan import offered, plan_fingerprint
from cascadebook.signing import verify
from cascadebook.spec.schema import resolve_spec
from conftest import clean_initiative
from fill import fill_workbook
from org_strategy import write_org_strategy
from review_typing import type_into_master

UNITS = [
    ("COM", "Commercial", None, "objectives"),
    ("MKT", "Marketing", "COM", "parent"),
    ("WEB", "Web team", "MKT", "parent"),
    ("SAL", "Sales", "COM", "objectives"),
]


def _strategy(tmp: Path) -> Path:
    return write_org_strategy(tmp, UNITS)


COM_ROWS = [
    clean_initiative("CO1", "Win enterprise accounts", 60, 72, contribution=12),  # COM-I01: +12 customers
    clean_initiative("CO3", "Brand campaign", 0.48, 0.75, unit="%", contribution=0.27),  # COM-I02
    clean_initiative("CO5", "Faster deliveries", 10, 8, unit="days", contribution=-2),  # COM-I03
]
MKT_ROWS = [
    clean_initiative("COM-I01", "Lead programme", 0, 8, contribution=8),  # MKT-I01: 8 of COM-I01's 12
    clean_initiative("COM-I09", "Nowhere", 0, 5, contribution=1),  # MKT-I02: not in COM's plan
    clean_initiative("COM-I01", "Split", 0, 4, objective_split="COM-I01 50% / COM-I02 50%"),  # MKT-I03
    clean_initiative("CO6", "Straight to an objective", 31, 35, unit="points"),  # MKT-I04: allowed
    clean_initiative("COM-I03", "Wrong way", 10, 9, unit="days", contribution=1),  # MKT-I05: days up, not down
]
WEB_ROWS = [
    clean_initiative("MKT-I01", "Landing pages", 0, 3, contribution=3),  # WEB-I01: 3 of MKT-I01's 8
    clean_initiative("MKT-I01", "Webinars", 0, 10, contribution=10),  # WEB-I02: with WEB-I01, 13 of 8 (162%)
]


@pytest.fixture(scope="module")
def rounds(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cascade")
    path = _strategy(tmp)
    strategy, key = load_strategy(path), load_key(path, create=True)
    spec = resolve_spec(None, strategy)
    generate(strategy, tmp / "round1", key=key)
    fill_workbook(tmp / "round1" / "FY2027_COM.xlsx", tmp / "returned" / "COM.xlsx", rows={"initiatives": COM_ROWS})
    first = reconcile(strategy, [tmp / "returned"], key=key, jobs=1)
    write_master(first, tmp / "master1.xlsx")
    round2 = generate_cascade(strategy, tmp / "master1.xlsx", tmp / "round2", spec=spec, key=key)
    fill_workbook(round2.written[0], tmp / "returned" / "MKT.xlsx", rows={"initiatives": MKT_ROWS})
    second = reconcile(strategy, [tmp / "returned"], key=key, jobs=1)
    write_master(second, tmp / "master2.xlsx")
    round3 = generate_cascade(strategy, tmp / "master2.xlsx", tmp / "round3", spec=spec, key=key)
    web = next(p for p in round3.written if p.name.endswith("_WEB.xlsx"))
    fill_workbook(web, tmp / "returned" / "WEB.xlsx", rows={"initiatives": WEB_ROWS})
    third = reconcile(strategy, [tmp / "returned"], key=key, jobs=1)
    write_master(third, tmp / "master3.xlsx")
    return dict(
        tmp=tmp,
        strategy=strategy,
        key=key,
        spec=spec,
        round2=round2,
        round3=round3,
        first=first,
        second=second,
        third=third,
    )


def _codes(result, code):
    return [(f.department, f.sheet, f.cell) for f in result.findings if f.code == code]


def test_round_two_offers_the_parents_plan_and_says_who_has_none_yet(rounds):
    assert [p.name for p in rounds["round2"].written] == ["FY2027_MKT.xlsx"]
    assert rounds["round2"].skipped == [("WEB", "MKT has no plan in the master yet")]
    book = openpyxl.load_workbook(rounds["round2"].written[0])
    assert book.sheetnames[:4] == ["Instructions", "Objectives", PARENT_PLAN_SHEET, "Initiatives"]
    ws = book[PARENT_PLAN_SHEET]
    assert "Commercial (COM)" in ws["A1"].value
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=3, max_row=6)]
    assert rows[0] == ["Initiative ID", "Objective", "Initiative", "Unit", "Baseline", "Target", "Due period"] + [
        "Owner",
        "Direction",
    ]
    assert [(r[0], r[1], r[2], r[8]) for r in rows[1:]] == [
        ("COM-I01", "CO1", "Win enterprise accounts", "increase"),
        ("COM-I02", "CO3", "Brand campaign", "increase"),
        ("COM-I03", "CO5", "Faster deliveries", "decrease"),
    ]
    assert book.defined_names["ObjectiveIds"].attr_text == f"'{PARENT_PLAN_SHEET}'!$A$4:$A$6"
    objective_column = book["Initiatives"]
    dropdowns = [dv for dv in objective_column.data_validations.dataValidation if dv.formula1 == "ObjectiveIds"]
    assert dropdowns and str(dropdowns[0].sqref).startswith("B5")
    assert "Marketing" in book["Instructions"]["A1"].value
    instructions = " ".join(str(c.value) for row in book["Instructions"].iter_rows() for c in row if c.value)
    assert "cascades from Commercial's" in instructions


def test_the_signed_metadata_records_level_parent_and_the_parent_plans_fingerprint(rounds):
    from cascadebook.intake.reader import read_return

    ret = read_return(rounds["round2"].written[0], rounds["spec"])
    meta = ret.metadata
    assert (meta.format_version, meta.level, meta.parent) == ("3", "2", "COM")
    sheet = rounds["spec"].sheet("initiatives")
    com = [r for r in rounds["first"].initiatives if r.department == "COM"]
    assert meta.parent_plan == plan_fingerprint(offered(com, sheet), sheet)
    assert verify(meta, rounds["key"])
    forged = meta.__class__(**{**meta.__dict__, "parent_plan": "0" * 16})
    assert not verify(forged, rounds["key"])


def test_a_row_naming_an_initiative_the_parent_has_not_is_an_error_at_its_cell(rounds):
    second = rounds["second"]
    assert _codes(second, "parent-initiative-unknown") == [("MKT", "Initiatives", "B6")]
    assert not _codes(second, "unknown-objective")  # the parent's ids are not objective ids, and not reported so


def test_every_level_reaches_the_corporate_objectives_with_the_weights_along_the_chain(rounds):
    third = rounds["third"]
    got = sorted((a.department, a.initiative_id, a.objective_id, round(a.weight, 6)) for a in third.allocations)
    assert got == [
        ("COM", "COM-I01", "CO1", 1.0),
        ("COM", "COM-I02", "CO3", 1.0),
        ("COM", "COM-I03", "CO5", 1.0),
        ("MKT", "MKT-I01", "CO1", 1.0),
        ("MKT", "MKT-I03", "CO1", 0.5),
        ("MKT", "MKT-I03", "CO3", 0.5),
        ("MKT", "MKT-I04", "CO6", 1.0),
        ("MKT", "MKT-I05", "CO5", 1.0),
        ("WEB", "WEB-I01", "CO1", 1.0),
        ("WEB", "WEB-I02", "CO1", 1.0),
    ]
    # the row that leads nowhere is Unaligned, with why: nothing is lost
    assert [(a.initiative_id, a.left_out) for a in third.unaligned] == [("MKT-I02", "parent initiative not recognised")]
    # a child's contribution counts toward its parent initiative, not again toward the objective
    co1 = next(c for c in third.commitments if c.objective.id == "CO1")
    assert (co1.committed, co1.initiatives, co1.departments) == (12, 5, ("COM", "MKT", "WEB"))


def test_commitments_roll_up_the_chain_in_each_parents_unit_and_direction(rounds):
    third = rounds["third"]
    by_id = {c.initiative_id: c for c in third.cascade.commitments}
    assert sorted(by_id) == ["COM-I01", "COM-I02", "COM-I03", "MKT-I01"]
    com1, mkt1 = by_id["COM-I01"], by_id["MKT-I01"]
    assert (com1.change, com1.committed, com1.stated, com1.children, com1.level) == (12, 8, 1, 2, 1)
    assert (mkt1.change, mkt1.committed, mkt1.stated, mkt1.children, mkt1.level) == (8, 13, 2, 2, 2)
    assert (by_id["COM-I03"].committed, by_id["COM-I03"].left_out) == (0, (("direction", 1),))
    assert _codes(third, "contribution-direction") == [("MKT", "Initiatives", "N9")]
    shortfall = [f for f in third.findings if f.code == "parent-commitment-shortfall"]
    assert [f.location for f in shortfall] == ["COM-I01"] and "8 of a target change of 12 (67%)" in shortfall[0].message
    surplus = [f for f in third.findings if f.code == "parent-commitment-surplus"]
    assert [f.location for f in surplus] == ["MKT-I01"] and "13 of a target change of 8 (162%)" in surplus[0].message


def test_a_split_over_parent_initiatives_of_different_units_is_flagged_and_not_summed(tmp_path, rounds):
    strategy, key, spec = rounds["strategy"], rounds["key"], rounds["spec"]
    returned = tmp_path / "returned"
    fill_workbook(rounds["tmp"] / "round1" / "FY2027_COM.xlsx", returned / "COM.xlsx", rows={"initiatives": COM_ROWS})
    row = clean_initiative("COM-I01", "Mixed", 0, 4, contribution=4, objective_split="COM-I01 50% / COM-I02 50%")
    fill_workbook(rounds["round2"].written[0], returned / "MKT.xlsx", rows={"initiatives": [row]})
    result = reconcile(strategy, [returned], key=key, jobs=1, spec=spec)
    assert _codes(result, "contribution-unit") == [("MKT", "Initiatives", "N5")]
    by_id = {c.initiative_id: c for c in result.cascade.commitments}
    assert by_id["COM-I01"].left_out == (("unit", 1),) and by_id["COM-I01"].committed == 0


def test_a_child_whose_parent_has_not_returned_is_told_and_its_rows_stay_unaligned(tmp_path, rounds):
    strategy, key = rounds["strategy"], rounds["key"]
    returned = tmp_path / "returned"
    fill_workbook(rounds["round2"].written[0], returned / "MKT.xlsx", rows={"initiatives": MKT_ROWS[:1]})
    result = reconcile(strategy, [returned], key=key, jobs=1)
    found = [f for f in result.findings if f.code == "parent-not-returned"]
    assert [(f.department, f.file, f.cell) for f in found] == [("MKT", "returned/MKT.xlsx", "B5")]
    assert "COM has not returned its plan: 1 initiative row of MKT" in found[0].message
    assert [(a.initiative_id, a.left_out) for a in result.unaligned] == [("MKT-I01", "parent plan not returned")]


def test_a_parent_plan_changed_since_the_template_was_made_is_a_warning_on_the_childs_file(tmp_path, rounds):
    strategy, key = rounds["strategy"], rounds["key"]
    returned = tmp_path / "returned"
    retitled = [dict(COM_ROWS[0], title="Win more enterprise accounts"), *COM_ROWS[1:]]
    fill_workbook(rounds["tmp"] / "round1" / "FY2027_COM.xlsx", returned / "COM.xlsx", rows={"initiatives": retitled})
    fill_workbook(rounds["round2"].written[0], returned / "MKT.xlsx", rows={"initiatives": MKT_ROWS[:1]})
    result = reconcile(strategy, [returned], key=key, jobs=1)
    assert [(f.department, f.file) for f in result.findings if f.code == "parent-plan-changed"] == [
        ("MKT", "returned/MKT.xlsx")
    ]
    # the same plan as the template's: no warning
    assert not [f for f in rounds["second"].findings if f.code == "parent-plan-changed"]


def test_finance_rejected_initiatives_are_not_offered_to_the_children(tmp_path, rounds):
    master = tmp_path / "master.xlsx"
    master.write_bytes((rounds["tmp"] / "master1.xlsx").read_bytes())
    type_into_master(master, {"COM-I02": {"Decision": "Rejected", "Comment": "not this year"}})
    done = generate_cascade(rounds["strategy"], master, tmp_path / "out", spec=rounds["spec"], key=rounds["key"])
    ws = openpyxl.load_workbook(done.written[0])[PARENT_PLAN_SHEET]
    assert [ws.cell(r, 1).value for r in range(4, 7)] == ["COM-I01", "COM-I03", None]


def test_the_master_counts_every_level_under_the_objective_its_chain_reaches(rounds):
    book = openpyxl.load_workbook(rounds["tmp"] / "master3.xlsx")
    ws = book["Initiatives"]
    header = [c.value for c in ws[1]]
    ids = [row[header.index("Initiative ID")] for row in ws.iter_rows(min_row=2, values_only=True)]
    assert sorted(i for i in ids if i) == sorted(
        [f"COM-I0{n}" for n in (1, 2, 3)] + [f"MKT-I0{n}" for n in (1, 2, 3, 4, 5)] + ["WEB-I01", "WEB-I02"]
    )
    # the Contributions table (what the Alignment Matrix and the commitments count) has each share under the
    # objective its chain reaches, and the row that leads nowhere under Unaligned
    shares = sorted(
        (d, i, o, round(w, 6)) for d, i, o, w, *_ in book["Contributions"].iter_rows(min_row=2, values_only=True) if d
    )
    assert shares == sorted(
        [
            ("COM", "COM-I01", "CO1", 1),
            ("COM", "COM-I02", "CO3", 1),
            ("COM", "COM-I03", "CO5", 1),
            ("MKT", "MKT-I01", "CO1", 1),
            ("MKT", "MKT-I02", "Unaligned", 1),
            ("MKT", "MKT-I03", "CO1", 0.5),
            ("MKT", "MKT-I03", "CO3", 0.5),
            ("MKT", "MKT-I04", "CO6", 1),
            ("MKT", "MKT-I05", "CO5", 1),
            ("WEB", "WEB-I01", "CO1", 1),
            ("WEB", "WEB-I02", "CO1", 1),
        ]
    )


def test_a_format_2_template_still_reconciles(tmp_path, rounds, monkeypatch):
    import cascadebook.template.department as department

    monkeypatch.setattr(department, "FORMAT_VERSION", "2")
    strategy, key = rounds["strategy"], rounds["key"]
    old = generate(strategy, tmp_path / "old", key=key, departments=["SAL"])[0]
    fill_workbook(old, tmp_path / "returned" / "SAL.xlsx", rows={"initiatives": COM_ROWS[:1]})
    result = reconcile(strategy, [tmp_path / "returned"], key=key, jobs=1)
    assert [(s.department, s.status, s.metadata.format_version) for s in result.sources] == [("SAL", "accepted", "2")]
    assert [(a.initiative_id, a.objective_id) for a in result.allocations] == [("SAL-I01", "CO1")]


def test_a_parent_initiative_in_error_is_not_offered_and_a_split_shows_its_weights(rounds):
    web = next(p for p in rounds["round3"].written if p.name.endswith("_WEB.xlsx"))
    ws = openpyxl.load_workbook(web)[PARENT_PLAN_SHEET]
    rows = [(ws.cell(r, 1).value, ws.cell(r, 2).value) for r in range(4, ws.max_row + 1)]
    # MKT-I02 names an initiative COM has not (an error on its row): not offered; warnings do not withhold
    assert rows == [("MKT-I01", "CO1"), ("MKT-I03", "CO1 50% / CO3 50%"), ("MKT-I04", "CO6"), ("MKT-I05", "CO5")]
    assert ws.column_dimensions["B"].width >= len("CO1 50% / CO3 50%")


def test_the_json_report_carries_the_levels_the_links_and_each_parents_commitment(rounds):
    report = rounds["third"].to_dict()["cascade"]
    assert report["units"]["WEB"] == {"level": 3, "parent": "MKT"} and report["units"]["COM"]["level"] == 1
    assert {(x["initiative"], x["parent_initiative"], x["weight"]) for x in report["links"]} >= {
        ("WEB-I01", "MKT-I01", 1.0),
        ("MKT-I03", "COM-I02", 0.5),
    }
    mkt1 = next(c for c in report["commitments"] if c["initiative"] == "MKT-I01")
    assert (mkt1["target_change"], mkt1["committed"], mkt1["gap"], mkt1["level"]) == (8, 13, -5, 2)


def test_the_cli_writes_the_cascade_round_and_names_the_units_it_cannot_make_yet(tmp_path, rounds):
    from click.testing import CliRunner

    from cascadebook.cli import cli

    strategy = rounds["tmp"] / "strategy.yaml"
    master = rounds["tmp"] / "master1.xlsx"
    out = CliRunner().invoke(cli, ["generate", str(strategy), "--from", str(master), "--cascade", "-o", str(tmp_path)])
    assert out.exit_code == 0, out.output
    assert f"wrote {tmp_path / 'FY2027_MKT.xlsx'}" in out.output
    assert "no template for WEB: MKT has no plan in the master yet" in out.output
    assert "1 cascade template(s) for FY2027" in out.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["FY2027_MKT.xlsx"]
    bad = CliRunner().invoke(cli, ["generate", str(strategy), "--cascade", "-o", str(tmp_path / "x")])
    assert bad.exit_code == 2 and "--cascade needs --from MASTER" in bad.output


def test_the_live_check_of_a_cascaded_template_points_at_the_parent_plan_sheet(rounds):
    ws = openpyxl.load_workbook(rounds["round2"].written[0])["Initiatives"]
    formulas = " ".join(str(c.value) for row in ws.iter_rows(min_row=5, max_row=5) for c in row if c.value)
    assert f"Objective not on the {PARENT_PLAN_SHEET} sheet" in formulas
    assert "not on the Objectives sheet" not in formulas


def test_a_row_aligned_to_a_parent_initiative_in_error_counts_under_it_and_is_told(tmp_path, rounds):
    strategy, key = rounds["strategy"], rounds["key"]
    returned = tmp_path / "returned"
    fill_workbook(rounds["tmp"] / "round1" / "FY2027_COM.xlsx", returned / "COM.xlsx", rows={"initiatives": COM_ROWS})
    fill_workbook(rounds["round2"].written[0], returned / "MKT.xlsx", rows={"initiatives": MKT_ROWS})
    web = next(p for p in rounds["round3"].written if p.name.endswith("_WEB.xlsx"))
    typed = clean_initiative("MKT-I02", "Typed past the dropdown", 0, 1)  # MKT-I02 names COM-I09: an error there
    fill_workbook(web, returned / "WEB.xlsx", rows={"initiatives": [typed]})
    result = reconcile(strategy, [returned], key=key, jobs=1)
    found = [f for f in result.findings if f.code == "parent-initiative-in-error"]
    assert [(f.department, f.cell) for f in found] == [("WEB", "B5")]
    assert "MKT-I02 has an error in MKT's plan (parent-initiative-unknown)" in found[0].message
    # it leads nowhere above MKT-I02 (which leads nowhere): Unaligned, not lost
    assert ("WEB-I01", "objective not recognised") in [(a.initiative_id, a.left_out) for a in result.unaligned]


def test_the_summarys_by_level_counts_objectives_served_and_parent_initiatives_committed_in_full(rounds):
    ws = openpyxl.load_workbook(rounds["tmp"] / "master3.xlsx")["Summary"]
    top = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "By level")
    header = [c.value for c in ws[top + 1]]
    covered, full = header.index("Objectives covered") + 1, header.index("Parent initiatives committed in full") + 1
    rows = {
        ws.cell(r, 1).value: (ws.cell(r, covered).value, ws.cell(r, full).value) for r in (top + 2, top + 3, top + 4)
    }
    # level 1: COM serves CO1, CO3, CO5 (SAL has not returned); none of COM's three is committed in full (8 of 12,
    # nothing stated, a contribution left out); level 2: MKT serves CO1, CO3, CO5, CO6, and MKT-I01 has 13 of 8;
    # level 3: WEB serves CO1 and nobody aligns to its initiatives
    assert rows == {1: (3, "0 of 3"), 2: (4, "1 of 1"), 3: (1, None)}


def test_a_cascade_matrix_wider_than_excel_says_how_many_parent_initiatives_it_cannot_show(
    tmp_path, rounds, monkeypatch
):
    import cascadebook.master.cascade_sheet as cascade_sheet

    monkeypatch.setattr(cascade_sheet, "EXCEL_MAX_COLUMNS", 4)  # room for 2 of the 4 parent initiatives
    write_master(rounds["third"], tmp_path / "narrow.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "narrow.xlsx")["Cascade matrix"]
    assert "2 parent initiatives beyond Excel's 4 columns are not shown here" in ws["A2"].value
    assert [ws.cell(5, c).value for c in range(1, 6)] == ["Unit", "Parent", "COM-I01", "MKT-I01", None]
