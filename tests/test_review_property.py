"""No decision is ever lost, proven (issue 19): from a reconciled master with random decisions typed in,
a random sequence of steps (a late return, a return withdrawn, an initiative edited, added or dropped,
rows renumbered or re-sorted, decisions typed or re-typed, a change acknowledged, reconcile re-run to the
same master) keeps every decision ever typed either on its initiative's row (same department and id)
with the same values, flagged exactly when the initiative differs from its snapshot, or on the
"Decisions without an initiative" sheet: never dropped, never moved to another initiative.

A model (``World``) follows what finance typed and what the returns hold; the master is read back
with openpyxl after every reconcile (typing alone leaves the snapshot and check columns to the next
reconcile, so that is when the invariant is checked). Returns are written by openpyxl from the
generated templates, initiative ids typed in (sorting in Excel moves a prefilled id with its row).
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cascadebook import generate, load_key, load_spec, load_strategy
from cascadebook.master.decisions_read import ORPHANS_SHEET
from cascadebook.pipeline import previous_decisions, reconcile, write_reviewed_master
from conftest import SAMPLE_STRATEGY, clean_initiative
from fill import fill_workbook

SPEC = load_spec()
REVIEW = SPEC.review
SHEET = SPEC.sheet("initiatives")
ID = SHEET.header_of("id")
INPUTS = [c.header for c in REVIEW.inputs]
CHECK = REVIEW.check.header if REVIEW.check is not None else ""
SNAPSHOT = {c.records: c.header for c in REVIEW.snapshots}  # plan role -> "Reviewed ..." header
PLAN = {role: SHEET.header_of(role) for role in SNAPSHOT}  # plan role -> the plan column's header
KEY_OF = {role: SHEET.key_of(role) for role in SNAPSHOT}  # plan role -> the column key fill_workbook types
DEPARTMENTS = ["MKT", "SAL", "OPS", "RND"]
TITLES = ["ABM campaign", "Content programme", "Webinars", "Solution selling", "Ship from stock", "Partner days"]
OBJECTIVES = ["CO1", "CO2"]
MAX_ROWS = 4  # initiatives per return: within the template's prefilled ids

Row = dict[str, Any]  # one initiative as typed: id, title, objective_id, target, budget


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("review-property")
    shutil.copyfile(SAMPLE_STRATEGY, root / "strategy.yaml")
    strategy = load_strategy(root / "strategy.yaml")
    generate(strategy, root / "outbox", key=load_key(root / "strategy.yaml", create=True), departments=DEPARTMENTS)
    return root


# ---- drawing -----------------------------------------------------------------------------------------

ROW = st.fixed_dictionaries(
    {
        "title": st.sampled_from(TITLES),
        "objective_id": st.sampled_from(OBJECTIVES),
        "target": st.integers(2, 400),
        "budget": st.one_of(st.none(), st.integers(1, 90).map(lambda k: k * 10_000)),
    }
)
VALUES = st.fixed_dictionaries(
    {
        REVIEW.header_of("decision"): st.sampled_from(REVIEW.labels),
        REVIEW.header_of("approved_budget"): st.one_of(st.none(), st.integers(1, 60).map(lambda k: k * 10_000)),
        REVIEW.header_of("approved_headcount"): st.sampled_from([None, 0, 2]),
        REVIEW.header_of("reviewer"): st.sampled_from([None, "CFO", "FP&A"]),
        REVIEW.header_of("review_comment"): st.sampled_from([None, "trim events", "say which channels"]),
    }
)
CHANGES = ["late return", "withdraw", "edit", "edit", "add row", "drop row", "renumber", "re-sort"]


def _numbered(code: str, rows: list[Row]) -> list[Row]:
    return [{**row, "id": f"{code}-I{n:02d}"} for n, row in enumerate(rows, 1)]


# ---- the model ---------------------------------------------------------------------------------------


@dataclass
class Decided:
    values: dict[str, Any]  # review input header -> value as typed
    snapshot: dict[str, Any]  # plan role -> the initiative's value when decided (or acknowledged)


@dataclass
class World:
    root: Path
    master: Path
    returns: dict[str, list[Row]] = field(default_factory=dict)  # what the returned files hold now
    in_master: dict[str, list[Row]] = field(default_factory=dict)  # what the last reconcile read
    decided: dict[tuple[str, str], Decided] = field(default_factory=dict)  # every decision typed, ever
    runs: int = 0

    def write_return(self, code: str) -> None:
        rows = [{**clean_initiative(r["objective_id"], r["title"], 1, r["target"]), **r} for r in self.returns[code]]
        fill_workbook(self.root / "outbox" / f"FY2027_{code}.xlsx", self.root / "returned" / f"{code}.xlsx",
                      rows={"initiatives": rows})  # fmt: skip

    def reconcile(self) -> None:
        strategy = load_strategy(self.root / "strategy.yaml")
        previous = previous_decisions(self.master, SPEC)
        result = reconcile(strategy, [self.root / "returned"], spec=SPEC, key=self.key, jobs=1)
        write_reviewed_master(result, self.master, previous)
        self.in_master = {code: [dict(r) for r in rows] for code, rows in self.returns.items()}
        self.runs += 1

    @property
    def key(self) -> bytes:
        return load_key(self.root / "strategy.yaml")

    def row_now(self, department: str, ident: str) -> Row | None:
        return next((r for r in self.in_master.get(department, []) if r["id"] == ident), None)


def _type(world: World, edits: dict[tuple[str, str], dict[str, Any]]) -> None:
    """Type into the master's Initiatives rows (found by department and id) as finance would."""
    book = openpyxl.load_workbook(world.master)
    ws = book[SHEET.title]
    header = {c.value: c.column for c in ws[1]}
    rows = {(ws.cell(r, 1).value, ws.cell(r, header[ID]).value): r for r in range(2, ws.max_row + 1)}
    for where, cells in edits.items():
        for name, value in cells.items():
            ws.cell(rows[where], header[name]).value = value
    book.save(world.master)


def _table(path: Path, title: str) -> list[dict[str, Any]]:
    ws = openpyxl.load_workbook(path, read_only=True)[title]
    rows = list(ws.iter_rows(values_only=True))
    return [dict(zip(rows[0], r)) for r in rows[1:] if any(v is not None for v in r)]


def _differs(snapshot: dict[str, Any], row: Row) -> bool:
    return any(snapshot.get(role) != row.get(KEY_OF[role]) for role in SNAPSHOT)


def _check(world: World) -> None:
    """The invariant, cell by cell: every decision on its initiative or among the orphans, once, as typed."""
    initiatives = _table(world.master, SHEET.title)
    orphans = _table(world.master, ORPHANS_SHEET)
    on_rows = {(r["Department"], r[ID]): r for r in initiatives if any(r[h] is not None for h in INPUTS)}
    orphaned: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in orphans:
        orphaned.setdefault((r["Department"], r[ID]), []).append(r)
    expected_rows, expected_orphans = set(), set()
    for (department, ident), decided in world.decided.items():
        row = world.row_now(department, ident)
        if row is not None:
            expected_rows.add((department, ident))
            found = on_rows.get((department, ident))
            assert found is not None, f"{department} {ident}: its decision is not on its row"
            assert {h: found[h] for h in INPUTS} == decided.values, f"{department} {ident}: values changed"
            assert {role: found[SNAPSHOT[role]] for role in SNAPSHOT} == decided.snapshot, f"{ident}: snapshot"
            flagged = bool(found[CHECK])
            assert flagged is _differs(decided.snapshot, row), f"{department} {ident}: check {found[CHECK]!r}"
        else:
            expected_orphans.add((department, ident))
            copies = orphaned.get((department, ident), [])
            assert len(copies) == 1, f"{department} {ident}: {len(copies)} copies among the orphans"
            assert {h: copies[0][h] for h in INPUTS} == decided.values, f"{department} {ident}: orphan's values"
    assert set(on_rows) == expected_rows, "a decision moved onto another initiative (or appeared)"
    assert set(orphaned) == expected_orphans, "an orphan that is not a decision typed, or one left behind"


# ---- the property --------------------------------------------------------------------------------------


def _step(world: World, data: st.DataObject, step: str) -> None:
    returned = sorted(world.returns)
    missing = [c for c in DEPARTMENTS if c not in world.returns]
    if step == "late return" and missing:
        code = data.draw(st.sampled_from(missing))
        world.returns[code] = _numbered(code, data.draw(st.lists(ROW, min_size=1, max_size=MAX_ROWS)))
        world.write_return(code)
    elif step == "withdraw" and len(returned) > 1:
        code = data.draw(st.sampled_from(returned))
        del world.returns[code]
        (world.root / "returned" / f"{code}.xlsx").unlink()
    elif step in ("edit", "add row", "drop row", "renumber", "re-sort") and returned:
        code = data.draw(st.sampled_from(returned))
        rows = world.returns[code]
        if step == "edit":
            i = data.draw(st.integers(0, len(rows) - 1))
            field_ = data.draw(st.sampled_from(["title", "objective_id", "target", "budget"]))
            rows[i] = {**rows[i], field_: data.draw(ROW)[field_]}
        elif step == "add row" and len(rows) < MAX_ROWS:
            used = {r["id"] for r in rows}
            free = [f"{code}-I{n:02d}" for n in range(1, MAX_ROWS + 1) if f"{code}-I{n:02d}" not in used]
            rows.append({**data.draw(ROW), "id": free[0]})
        elif step == "drop row" and len(rows) > 1:
            del rows[data.draw(st.integers(0, len(rows) - 1))]
        elif step == "renumber":  # the rows' content moves, the ids stay where they were
            order = data.draw(st.permutations(range(len(rows))))
            world.returns[code] = [{**rows[j], "id": rows[i]["id"]} for i, j in enumerate(order)]
        elif step == "re-sort":  # the rows move with their ids
            world.returns[code] = [rows[j] for j in data.draw(st.permutations(range(len(rows))))]
        world.write_return(code)
    elif step == "type":
        _type_decisions(world, data)
    elif step == "acknowledge":
        flagged = [
            k for k, d in world.decided.items() if (row := world.row_now(*k)) is not None and _differs(d.snapshot, row)
        ]
        if flagged:
            k = data.draw(st.sampled_from(flagged))
            _type(world, {k: {CHECK: None}})  # finance clears "changed since reviewed"
            row = world.row_now(*k)
            assert row is not None
            world.decided[k].snapshot = {role: row.get(KEY_OF[role]) for role in SNAPSHOT}


def _type_decisions(world: World, data: st.DataObject) -> None:
    """Finance decides (or re-decides) on a few initiatives of the master as it is."""
    rows = [(code, r["id"]) for code, rs in sorted(world.in_master.items()) for r in rs]
    chosen = data.draw(st.lists(st.sampled_from(rows), min_size=1, max_size=3, unique=True)) if rows else []
    edits = {}
    for k in chosen:
        values = data.draw(VALUES)
        edits[k] = values
        row = world.row_now(*k)
        assert row is not None
        snapshot = (
            world.decided[k].snapshot if k in world.decided else {role: row.get(KEY_OF[role]) for role in SNAPSHOT}
        )
        world.decided[k] = Decided(dict(values), snapshot)
    if edits:
        _type(world, edits)


ROUND = st.tuples(
    st.lists(st.sampled_from(CHANGES), min_size=0, max_size=3),  # what the departments send
    st.booleans(),  # finance types decisions in the master
    st.booleans(),  # finance acknowledges a flagged change
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(
    first=st.dictionaries(st.sampled_from(DEPARTMENTS[:3]), st.lists(ROW, min_size=1, max_size=MAX_ROWS), min_size=1),
    rounds=st.lists(ROUND, min_size=2, max_size=4),
    data=st.data(),
)
def test_every_decision_typed_stays_on_its_initiative_or_among_the_orphans(base, first, rounds, data):
    """Each round: the returns change, finance may type and acknowledge, reconcile runs again."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        shutil.copytree(base, root, dirs_exist_ok=True)
        (root / "returned").mkdir()
        world = World(root, root / "master.xlsx")
        for code, rows in sorted(first.items()):
            world.returns[code] = _numbered(code, rows)
            world.write_return(code)
        world.reconcile()
        _type_decisions(world, data)
        for changes, type_, acknowledge in rounds:
            for step in changes:
                _step(world, data, step)
            if type_:
                _step(world, data, "type")
            if acknowledge:
                _step(world, data, "acknowledge")
            world.reconcile()
            _check(world)
