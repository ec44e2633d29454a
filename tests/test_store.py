"""Packed records (store.py): the same result and the same master as plain ones, with less memory."""
from __future__ import annotations

import pickle
import zipfile
from pathlib import Path

import pytest

from cascadebook import load_key, load_strategy, reconcile, write_master
from cascadebook.store import RecordList

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
    assert [(a.department, a.initiative_id, a.objective_id, a.record) for a in packed.allocations] == \
        [(a.department, a.initiative_id, a.objective_id, a.record) for a in plain.allocations]
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
        return [Record("kpis", code, f"FY2027_{code}.xlsx", "KPIs", 5 + i, {
            "id": f"{code}-K{i:02d}", "initiative_id": f"{code}-I{i // 2:02d}", "level": "Team",
            "team": f"Team {i % 7}", "owner": f"Owner {i * 37 % 101}", "name": f"Share of orders shipped on time {i}",
            "unit": "%", "baseline": 0.8 + i / 1000, "target": 0.95, "frequency": "Monthly", "due_period": "Q4"})
            for i in range(80)]

    blob = RecordList(department("D0001")).packed().chunks()[0][0]
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    rows = department("D0002")
    as_objects = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert len(rows) == 80 and len(blob) * 5 < as_objects
