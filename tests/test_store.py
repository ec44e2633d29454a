"""Packed records (consolidate/packed.py): the same result and the same master as plain ones, with less memory."""

from __future__ import annotations

import pickle
import zipfile
from pathlib import Path

import pytest

from cascadebook import load_key, load_strategy, reconcile, write_master
from cascadebook.consolidate.packed import RecordList

SAMPLES = Path(__file__).resolve().parents[1] / "samples"


def _parts(path):
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist() if n != "docProps/core.xml"}


@pytest.mark.parametrize("jobs", [1, 2])
def test_packed_reconcile_gives_the_same_result_and_master(tmp_path, jobs):
    strategy = load_strategy(SAMPLES / "strategy.yaml")
    key = load_key(SAMPLES / "strategy.yaml")
    inputs = [SAMPLES / "returned"]
    plain = reconcile(strategy, inputs, key=key, jobs=jobs)
    packed = reconcile(strategy, inputs, key=key, jobs=jobs, pack_above=0)
    assert not any(rows.is_packed for rows in plain.records.values())
    assert all(rows.is_packed for rows in packed.records.values() if len(rows))
    assert len(packed.initiatives) == len(plain.initiatives) > 10
    for key_ in plain.records:
        assert list(packed.records[key_]) == list(plain.records[key_])
    assert packed.findings == plain.findings
    assert [(a.department, a.initiative_id, a.objective_id, a.record) for a in packed.allocations] == [
        (a.department, a.initiative_id, a.objective_id, a.record) for a in plain.allocations
    ]
    for result in (plain, packed):
        result.generated_at = "2027-01-04T09:00:00+00:00"
    a, b = write_master(plain, tmp_path / "plain.xlsx"), write_master(packed, tmp_path / "packed.xlsx")
    assert _parts(a) == _parts(b)


def test_record_list_reads_like_a_list():
    rows = list(range(10))  # any objects: the list does not look inside
    packed = RecordList()
    packed.add(RecordList(rows[:4]).packed())
    packed.add(rows[4:7])
    packed.add(RecordList(rows[7:]).packed())
    assert len(packed) == 10 and list(packed) == rows and packed == rows
    assert [packed[i] for i in (0, 3, 4, 6, 7, 9, -1, -10)] == [0, 3, 4, 6, 7, 9, 9, 0]
    assert packed[2:8] == rows[2:8] and packed[::-3] == rows[::-3]
    with pytest.raises(IndexError):
        packed[10]
    restored = pickle.loads(pickle.dumps(packed))
    assert restored == rows and restored.is_packed
    assert bool(RecordList()) is False and bool(packed) is True
    assert packed + [10] == rows + [10] and [-1] + packed == [-1] + rows


def test_packed_rows_are_much_smaller_than_the_objects():
    """What the packing is for: a department's rows as a blob take a fraction of their memory as objects."""
    import tracemalloc

    from cascadebook.model import Record

    def department(code: str) -> list[Record]:
        return [
            Record(
                "kpis",
                code,
                f"FY2027_{code}.xlsx",
                "KPIs",
                5 + i,
                {
                    "id": f"{code}-K{i:02d}",
                    "initiative_id": f"{code}-I{i // 2:02d}",
                    "level": "Team",
                    "team": f"Team {i % 7}",
                    "owner": f"Owner {i * 37 % 101}",
                    "name": f"Share of orders shipped on time {i}",
                    "unit": "%",
                    "baseline": 0.8 + i / 1000,
                    "target": 0.95,
                    "frequency": "Monthly",
                    "due_period": "Q4",
                },
            )
            for i in range(80)
        ]

    blob = RecordList(department("D0001")).packed().chunks()[0][0]
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    rows = department("D0002")
    as_objects = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert len(rows) == 80 and len(blob) * 5 < as_objects


def test_chunks_know_their_department_without_being_decoded(monkeypatch):
    from cascadebook.consolidate import packed as store
    from cascadebook.model import Record

    def rows(code, n):
        return [Record("kpis", code, f"{code}.xlsx", "KPIs", 5 + i, {"id": f"{code}-K{i}"}) for i in range(n)]

    told = RecordList()
    told.add(RecordList(rows("FIN", 3)).packed(), department="FIN")
    told.add(RecordList(rows("HR", 2)).packed(), department="HR")
    told.add(rows("FIN", 1), department="FIN")
    restored = pickle.loads(pickle.dumps(told.packed()))
    monkeypatch.setattr(store, "unpack", lambda blob: pytest.fail("decoded to say whose rows a chunk holds"))
    assert told.departments() == restored.departments() == {"FIN": [0, 2], "HR": [1]}
    monkeypatch.undo()
    assert [r.id for r in restored.chunk(1)] == ["HR-K0", "HR-K1"]
    untold = RecordList(rows("FIN", 2) + rows("HR", 1))  # a chunk nobody labelled is looked into
    assert untold.departments() == {"FIN": [0], "HR": [0]}


@pytest.mark.parametrize("pack_above", [None, 0])
def test_tally_adds_up_the_rows_as_read(pack_above):
    """The rows' counts, budget and headcount are added up in the reader; they match the rows."""
    strategy = load_strategy(SAMPLES / "strategy.yaml")
    result = reconcile(
        strategy, [SAMPLES / "returned"], key=load_key(SAMPLES / "strategy.yaml"), jobs=1, pack_above=pack_above
    )
    expected: dict[str, dict[str, float]] = {}
    for key_, rows in result.records.items():
        for r in rows:
            mine = expected.setdefault(r.department, {"budget": 0, "headcount": 0})
            mine[key_] = mine.get(key_, 0) + 1
            if key_ == "initiatives":
                for field_ in ("budget", "headcount"):
                    value = r.values.get(field_)
                    mine[field_] += value if isinstance(value, (int, float)) and not isinstance(value, bool) else 0
    tally = result.tally()
    assert expected and sum(t["budget"] for t in expected.values()) > 0
    for department, mine in expected.items():
        for key_, value in mine.items():
            assert tally[department][key_] == pytest.approx(value), (department, key_)


def test_spool_gives_back_each_key_in_order_from_disk(tmp_path):
    from cascadebook.consolidate.packed import Spool

    with Spool(str(tmp_path), batch=3) as spool:
        for i in range(10):
            spool.put("CO1" if i % 3 else "CO2", (i, f"row {i}"))
        assert len(list(tmp_path.iterdir())) <= 1  # one file, whatever the keys
        assert list(spool.pop("CO2")) == [(i, f"row {i}") for i in (0, 3, 6, 9)]
        assert list(spool.pop("CO1")) == [(i, f"row {i}") for i in (1, 2, 4, 5, 7, 8)]
        assert list(spool.pop("CO1")) == [] and list(spool.pop("CO9")) == []


def test_a_packed_chunk_holds_only_its_compressed_bytes():
    """Packed rows are kept by the thousand: each blob must not keep its compressor's worst-case room."""
    import tracemalloc

    from cascadebook.consolidate.packed import pack

    rows = [{"id": f"D0001-I{i:02d}", "title": f"Initiative number {i} " * 4, "budget": i * 1000.0} for i in range(200)]
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    blobs = [pack(rows) for _ in range(50)]
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert held < 2 * sum(len(b) for b in blobs) + 50_000


@pytest.mark.parametrize("protocol", range(2, pickle.HIGHEST_PROTOCOL + 1))
def test_cell_refs_survive_pickling_and_copying(protocol):
    """A row's cell map is restored by pickle itself (no __setstate__): packed rows, the process
    pool and copies all rely on it."""
    import copy

    from cascadebook.xlsx.addresses import CellRefs

    columns = {"id": 1, "title": 3, "budget": 28}
    refs = CellRefs(41, columns)
    for restored in (pickle.loads(pickle.dumps(refs, protocol=protocol)), copy.copy(refs), copy.deepcopy(refs)):
        assert isinstance(restored, CellRefs)
        assert restored == refs == {"id": "A41", "title": "C41", "budget": "AB41"}
        assert restored.row == 41 and restored.get("budget") == "AB41" and "notes" not in restored
    shared = pickle.loads(pickle.dumps([CellRefs(5, columns), CellRefs(6, columns)], protocol=protocol))
    assert shared[0].columns is shared[1].columns  # one map per sheet, as read


def _department_rows(code: str, n: int = 6):
    from datetime import date

    from cascadebook.model import Record
    from cascadebook.xlsx.addresses import CellRefs

    columns = {"id": 1, "initiative_id": 2, "name": 6, "baseline": 8, "target": 9, "due_period": 11}
    return [
        Record(
            "kpis",
            code,
            f"returns/FY2027_{code}.xlsx",
            "KPIs",
            5 + i,
            {
                "id": f"{code}-K{i:02d}",
                "initiative_id": f"{code}-I{i // 2:02d}",
                "name": f"On-time orders {i}",
                "baseline": 0.8 + i / 100,
                "target": None if i == 3 else 0.95,
                "due_period": date(2027, 3, 31),
            },
            CellRefs(5 + i, columns),
        )
        for i in range(n)
    ]


def test_a_departments_rows_are_packed_as_columns_and_come_back_the_same():
    import dataclasses

    from cascadebook.consolidate import packed as store

    rows = _department_rows("OPS")
    blob = store.pack(rows)
    form = store._load(blob)  # what the department's rows share is kept once
    assert isinstance(form, store._Columns) and form.department == "OPS" and len(form.rows) == 6
    back = store.unpack(blob)
    assert back == rows and [type(r) for r in back] == [type(r) for r in rows]
    assert [list(r.values) for r in back] == [list(r.values) for r in rows]  # the values keep their order
    assert back[2].cells["name"] == "F7" and back[0].cells.columns is back[5].cells.columns
    with pytest.raises(dataclasses.FrozenInstanceError):
        back[0].row = 9  # still a frozen record


def test_rows_that_differ_are_packed_as_they_are():
    import dataclasses

    from cascadebook.consolidate import packed as store

    rows = _department_rows("OPS")
    for chunk in (
        rows[:2] + [dataclasses.replace(rows[2], department="FIN")] + rows[3:],
        rows[:2] + [dataclasses.replace(rows[2], values={**rows[2].values, "notes": "x"})] + rows[3:],
        rows[:2] + [dataclasses.replace(rows[2], cells={"id": "A7"})] + rows[3:],
        [dataclasses.replace(r, values=dict(reversed(r.values.items()))) if r.row == 6 else r for r in rows],
        [1, 2, 3],
    ):
        blob = store.pack(chunk)
        assert type(store._load(blob)) is list and store.unpack(blob) == chunk


@pytest.mark.parametrize("keys", [("id", "target", "due_period"), ("name",), (), ("id", "notes")])
def test_value_rows_read_packed_columns_as_the_records_would(keys):
    from cascadebook.consolidate.packed import value_rows

    plain, packed = RecordList(), RecordList()
    for code in ("FIN", "OPS"):
        rows = _department_rows(code)
        plain.add(rows, department=code)
        packed.add(RecordList(rows).packed(), department=code)
    packed.add(RecordList(_department_rows("HR", 2)[::-1] + _department_rows("IT", 1)).packed())  # not columns
    plain.add(_department_rows("HR", 2)[::-1] + _department_rows("IT", 1))
    expected = [(r.department, r.file, r.row, tuple(r.values.get(k) for k in keys)) for r in plain]
    assert len(expected) == 15 and expected[0][:3] == ("FIN", "returns/FY2027_FIN.xlsx", 5)
    assert list(plain.value_rows(keys)) == list(packed.value_rows(keys)) == expected
    assert list(value_rows(list(plain), keys)) == list(value_rows(packed, keys)) == expected
