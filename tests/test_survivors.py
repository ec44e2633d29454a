"""Behaviour that deliberate one-line bugs once got past the suite (issue 17), stated on real files.

Each test generates templates with the library, types into them with openpyxl the way a person
would, reconciles them and checks the findings and the master against expectations written here
by hand (never against another output of the same code).
"""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from cascadebook import generate, load_strategy, reconcile, write_master
from cascadebook.cycle.checkin import generate_checkins
from cascadebook.intake.dispatch import checkin_spec
from cascadebook.master.read import read_master
from cascadebook.spec.schema import load_spec
from cascadebook.template.department import HEADER_ROW
from conftest import SAMPLE_STRATEGY, clean_initiative, clean_kpi
from corpus import make_corpus as corpus
from fill import fill_workbook

SPEC = load_spec()
META = "_cascadebook"
PROP = "cascadebook."


def _column(sheet_key: str, key: str, spec=SPEC) -> str:
    sheet = spec.sheet(sheet_key)
    return "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[[c.key for c in sheet.columns].index(key)]


def _codes_at(result, code: str) -> set[tuple[str, str, str]]:
    return {(f.file, f.sheet, f.cell) for f in result.findings if f.code == code}


# ------------------------------------------------------------------ a target equal to its baseline


def test_an_initiative_whose_target_equals_its_baseline_does_not_move_an_increase_or_decrease_objective(
    strategy, key, returned, fill
):
    """An initiative serving an 'increase' or 'decrease' objective must move the metric: a target equal
    to its baseline goes neither way and gets a target-direction warning on its Target cell; targets
    that move the right way get none. (CO1 is to increase, CO5 to decrease.)"""
    fill(
        "MKT",
        rows={
            "initiatives": [
                clean_initiative("CO1", "Holds leads flat", 60, 60),  # row 5: no move on an increase
                clean_initiative("CO5", "Holds delivery flat", 10, 10),  # row 6: no move on a decrease
                clean_initiative("CO1", "More leads", 60, 61),  # row 7: right way, by the smallest step
                clean_initiative("CO5", "Faster delivery", 10, 9.5),  # row 8: right way
                clean_initiative("CO1", "Fewer leads", 60, 59),  # row 9: wrong way
            ]
        },
    )
    result = reconcile(strategy, [returned], key=key, jobs=1)
    target = _column("initiatives", "target")
    assert _codes_at(result, "target-direction") == {
        ("returned/MKT.xlsx", "Initiatives", f"{target}{row}") for row in (5, 6, 9)
    }
    messages = {f.cell: f.message for f in result.findings if f.code == "target-direction"}
    assert messages[f"{target}5"] == "CO1 is to increase but the target 60 is not above the baseline 60"
    assert messages[f"{target}6"] == "CO5 is to decrease but the target 10 is not below the baseline 10"
    # a warning: the rows are still in the master
    assert [r.id for r in result.initiatives] == [f"MKT-I0{n}" for n in range(1, 6)]


# ------------------------------------------------------------------ signatures


def _set_meta(book, **values) -> None:
    """Type values into the hidden metadata sheet and the document properties alike."""
    for row in book[META].iter_rows():
        if row[0].value in values:
            row[1].value = values[row[0].value]
    for prop in book.custom_doc_props.props:
        name = prop.name[len(PROP) :] if prop.name.startswith(PROP) else None
        if name in values:
            prop.value = values[name]


def _meta(path: Path) -> dict[str, str]:
    return {r[0]: r[1] for r in openpyxl.load_workbook(path)[META].iter_rows(values_only=True)}


def test_a_signature_typed_over_in_both_copies_of_the_metadata_is_rejected(strategy, key, returned, fill):
    """A workbook whose hidden signature (sheet and document properties alike) is not the one the
    strategy's key gives for its metadata is rejected with signature-mismatch; its rows are not taken
    but named in rows-not-taken."""
    path = fill("MKT", rows={"initiatives": [clean_initiative("CO1", "Campaign", 60, 66)]})
    real = _meta(path)["signature"]
    forged = "0" * len(real)
    assert forged != real
    corpus.edit(path, path, lambda book: _set_meta(book, signature=forged))
    assert _meta(path)["signature"] == forged
    result = reconcile(strategy, [returned], key=key, jobs=1)
    [source] = result.sources
    assert (source.department, source.status) == ("MKT", "rejected")
    [mismatch] = [f for f in result.findings if f.code == "signature-mismatch"]
    assert (mismatch.file, mismatch.department) == ("returned/MKT.xlsx", "MKT")
    assert mismatch.message == "the metadata says MKT but its signature does not match; it was edited or copied"
    assert ("rows-not-taken", (5,)) in {(f.code, f.rows) for f in result.findings}
    assert not result.initiatives


def test_a_workbook_re_targeted_to_another_department_everywhere_is_rejected(strategy, key, returned, fill):
    """Marketing's workbook passed off as Sales': the department edited in the hidden sheet, the document
    properties and every visible title alike, the signature left as it was. Only the signature can tell,
    and it must: signature-mismatch, no row taken, Sales still counted as not returned."""
    path = fill("MKT", rows={"initiatives": [clean_initiative("CO1", "Campaign", 60, 66)]})

    def retarget(book):
        _set_meta(book, department="SAL")
        for title in ("Instructions", "Initiatives", "KPIs"):
            book[title]["A1"] = book[title]["A1"].value.replace("Marketing (MKT)", "Sales (SAL)")

    corpus.edit(path, path, retarget)
    result = reconcile(strategy, [returned], key=key, jobs=1)
    [source] = result.sources
    assert (source.department, source.status) == ("SAL", "rejected")
    assert [f.message for f in result.findings if f.code == "signature-mismatch"] == [
        "the metadata says SAL but its signature does not match; it was edited or copied"
    ]
    assert not result.initiatives and "SAL" not in result.accepted()
    assert ("department-not-returned", "SAL") in {(f.code, f.department) for f in result.findings}


def test_an_untouched_template_passes_the_signature_check(strategy, key, returned, fill):
    """The other side: the same workbook, its metadata untouched, is accepted without a signature finding."""
    fill("MKT", rows={"initiatives": [clean_initiative("CO1", "Campaign", 60, 66)]})
    result = reconcile(strategy, [returned], key=key, jobs=1)
    assert result.sources[0].status == "accepted"
    assert not {"signature-mismatch", "signature-unverified"} & {f.code for f in result.findings}


# ------------------------------------------------------------------ the visible cycle


def test_last_cycles_workbook_carrying_this_cycles_metadata_is_rejected(workdir, strategy, key, templates, returned):
    """A department fills last cycle's (FY2026) template and pastes this cycle's validly signed hidden
    metadata and document properties into it. The visible titles still say FY2026: the workbook is not
    taken as this cycle's return (signature-mismatch naming both cycles), its rows are not taken."""
    old_yaml = workdir / "old" / "strategy.yaml"
    old_yaml.parent.mkdir()
    old_yaml.write_text(
        SAMPLE_STRATEGY.read_text(encoding="utf-8").replace("cycle: FY2027", "cycle: FY2026"), encoding="utf-8"
    )
    old = load_strategy(old_yaml)
    assert old.cycle == "FY2026"
    [old_template] = generate(old, workdir / "old" / "outbox", key=key, departments=["MKT"])
    path = fill_workbook(
        old_template, returned / "MKT.xlsx", rows={"initiatives": [clean_initiative("CO1", "Campaign", 60, 66)]}
    )
    current = openpyxl.load_workbook(templates["MKT"])
    pairs = [(r[0].value, r[1].value) for r in current[META].iter_rows()]

    def paste(book):
        for row, (name, value) in zip(book[META].iter_rows(), pairs):
            row[0].value, row[1].value = name, value
        book.custom_doc_props = current.custom_doc_props

    corpus.edit(path, path, paste)
    assert _meta(path)["cycle"] == "FY2027" and "FY2026" in openpyxl.load_workbook(path)["Initiatives"]["A1"].value
    result = reconcile(strategy, [returned], key=key, jobs=1)
    [source] = result.sources
    assert source.status == "rejected"
    [mismatch] = [f for f in result.findings if f.code == "signature-mismatch"]
    assert mismatch.message == (
        "the metadata says MKT, FY2027 but the title of sheet 'Initiatives' says MKT, "
        "FY2026: the metadata was copied from another template"
    )
    assert not result.initiatives


# ------------------------------------------------------------------ the Alignment Matrix's counts


def test_matrix_counts_every_initiative_in_a_cell_without_recalculation(strategy, key, returned, fill, workdir):
    """The Alignment Matrix's "Initiatives per cell" table, as a viewer that does not recalculate shows it
    (the cached values), counts each department's initiatives per objective: two or three initiatives of
    one department on one objective are 2 or 3, not 1. Counts written here by hand."""
    fill(
        "MKT",
        rows={
            "initiatives": [
                clean_initiative("CO1", "Campaign A", 60, 62),
                clean_initiative("CO1", "Campaign B", 60, 63),
                clean_initiative("CO1", "Campaign C", 60, 61),
                clean_initiative("CO3", "Awareness", 0.48, 0.5, unit="%"),
                clean_initiative("CO9", "Unknown objective", 1, 2),
            ]
        },
    )
    fill(
        "OPS",
        rows={
            "initiatives": [
                clean_initiative("CO5", "Depots", 10, 9, unit="days"),
                clean_initiative("CO5", "Routing", 10, 9.5, unit="days"),
            ]
        },
    )
    result = reconcile(strategy, [returned], key=key, jobs=1)
    path = write_master(result, workdir / "master.xlsx")
    ws = openpyxl.load_workbook(path, data_only=True)["Alignment Matrix"]
    [top] = [r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "Initiatives per cell"]
    header = [ws.cell(top + 1, c).value for c in range(1, ws.max_column + 1)]
    table = {
        ws.cell(r, 1).value: {h: ws.cell(r, c).value for c, h in enumerate(header, 1) if h}
        for r in range(top + 2, top + 2 + len(strategy.departments) + 1)
    }
    objectives = [o.id for o in strategy.objectives]
    want = {d.code: dict.fromkeys(objectives, 0) for d in strategy.departments}
    want["MKT"].update(CO1=3, CO3=1)
    want["OPS"].update(CO5=2)
    for code, counts in want.items():
        assert {o: table[code][o] for o in objectives} == counts, code
    assert table["MKT"]["Total"] == 5 and table["MKT"]["Initiatives"] == 5  # the unknown one under Unaligned
    assert table["OPS"]["Total"] == 2 and table["OPS"]["Initiatives"] == 2
    assert {o: table["Total"][o] for o in objectives} == {**dict.fromkeys(objectives, 0), "CO1": 3, "CO3": 1, "CO5": 2}
    # and the cells above list each initiative of the cell
    row = next(r for r in range(2, top) if str(ws.cell(r, 1).value).startswith("MKT "))
    co1 = header.index("CO1") + 1
    assert [line.split(" ")[0] for line in ws.cell(row, co1).value.split("\n")] == ["MKT-I01", "MKT-I02", "MKT-I03"]


# ------------------------------------------------------------------ check-ins and direction

PLAN = [  # (objective, title, baseline, target, Q1 actual, Q2 actual, Q2 comment)
    ("CO5", "Faster dispatch", 10, 6, 8, 9, None),  # I01 decrease: Q2 moves back up, away from 6
    ("CO5", "Route planning", 10, 6, 8, 7, None),  # I02 decrease: Q2 moves on towards 6
    ("CO1", "Key accounts", 60, 70, 64, 62, None),  # I03 increase: Q2 moves back down
    ("CO1", "Partner leads", 60, 70, 64, 66, None),  # I04 increase: Q2 moves on
    ("CO5", "Keep returns low", 8, 8, 9, 7, None),  # I05 decrease, hold the line at 8: Q1 above, Q2 below
    ("CO1", "Keep key accounts", 60, 60, 61, 59, None),  # I06 increase, hold the line at 60: Q1 above, Q2 below
    ("CO5", "Dispatch, explained", 10, 6, 8, 9, "Strike in May"),  # I07 decrease, back up with a comment
]
# By hand: the share of the way covered, capped to [0, 1]; holding the line is 1 at or past the target
# in the objective's direction, else 0.
PROGRESS = {
    "MKT-I01": {"Q1": 0.5, "Q2": 0.25},
    "MKT-I02": {"Q1": 0.5, "Q2": 0.75},
    "MKT-I03": {"Q1": 0.4, "Q2": 0.2},
    "MKT-I04": {"Q1": 0.4, "Q2": 0.6},
    "MKT-I05": {"Q1": 0.0, "Q2": 1.0},
    "MKT-I06": {"Q1": 1.0, "Q2": 0.0},
    "MKT-I07": {"Q1": 0.5, "Q2": 0.25},
}
BACKWARDS = {"MKT-I01", "MKT-I03"}  # Q2 moved away from the target, no comment


@pytest.fixture
def checked_in(strategy, key, returned, fill, workdir):
    """MKT's plan of PLAN, its Q1 and Q2 check-ins (both made from the plan's master) filled in."""
    fill(
        "MKT",
        rows={
            "initiatives": [
                clean_initiative(o, t, b, g, unit="days" if o == "CO5" else "count") for o, t, b, g, *_ in PLAN
            ],
            "kpis": [clean_kpi(f"MKT-I0{n}", f"KPI {n}") for n in range(1, len(PLAN) + 1)],
        },
    )
    master0 = write_master(reconcile(strategy, [returned], key=key, jobs=1), workdir / "master0.xlsx")
    spec = checkin_spec()
    sheet = spec.sheet("initiatives")
    folder = workdir / "checkins"
    where = {}
    for period, column in (("Q1", 4), ("Q2", 5)):
        [made] = generate_checkins(
            strategy, read_master(master0), workdir / "made" / period, period, key=key, departments=["MKT"]
        )
        ws = openpyxl.load_workbook(made)[sheet.title]
        ids = {ws.cell(r, 1).value: r for r in range(HEADER_ROW + 1, ws.max_row + 1) if ws.cell(r, 1).value}
        cells = {}
        for n, line in enumerate(PLAN, 1):
            r = ids[f"MKT-I0{n}"]
            cells[f"{sheet.title}!{_column('initiatives', 'actual', spec)}{r}"] = line[column]
            if period == "Q2" and line[6]:
                cells[f"{sheet.title}!{_column('initiatives', 'comment', spec)}{r}"] = line[6]
            where[(period, f"MKT-I0{n}")] = f"{_column('initiatives', 'actual', spec)}{r}"
        fill_workbook(made, folder / f"MKT {period}.xlsx", cells=cells, spec=spec)
    result = reconcile(strategy, [returned, folder], key=key, jobs=1)
    return result, where, workdir


def test_checkin_progress_follows_the_objective_direction(checked_in):
    """Each initiative's progress is the share of the way from its baseline to its target, whichever way
    the objective goes; holding the line (target = baseline) counts 100% at or past the target in the
    objective's direction (below it for a decrease), else 0%. Worked out by hand in PROGRESS, read from
    the result and from the master's Check-ins sheet."""
    result, _, workdir = checked_in
    report = result.progress
    assert report.periods == ("Q1", "Q2")
    for item_id, by_period in PROGRESS.items():
        for period, want in by_period.items():
            got = report.item("initiatives", "MKT", item_id, period)
            assert got.progress == pytest.approx(want), (item_id, period)
    book = openpyxl.load_workbook(write_master(result, workdir / "master.xlsx"), data_only=True)
    rows = list(book["Check-ins"].iter_rows(values_only=True))
    head = rows[0]
    shown = {
        (r[head.index("Period")], r[head.index("ID")]): r[head.index("Progress")]
        for r in rows[1:]
        if r[head.index("Sheet")] == "Initiatives"
    }
    for item_id, by_period in PROGRESS.items():
        for period, want in by_period.items():
            assert shown[(period, item_id)] == pytest.approx(want), (item_id, period)


def test_an_actual_moving_away_from_the_target_is_backwards_whichever_way_the_objective_goes(checked_in):
    """actual-backwards: a Q2 actual further from the target than the Q1 actual, without a comment, for
    a decrease objective (8 -> 9 towards 6) as for an increase one (64 -> 62 towards 70); a move towards
    the target (8 -> 7, 64 -> 66) or a move back with a comment is none."""
    result, where, _ = checked_in
    backwards = {f.cell: f for f in result.findings if f.code == "actual-backwards"}
    assert set(backwards) == {where[("Q2", item)] for item in BACKWARDS}
    assert all(f.file == "checkins/MKT Q2.xlsx" and f.sheet == "Initiatives" for f in backwards.values())
    assert backwards[where[("Q2", "MKT-I01")]].message == (
        "MKT-I01: 9 for Q2 moved back from 8 (the target is 6) and there is no comment"
    )
