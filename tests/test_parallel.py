"""Parallel intake merges in input order: the master is the same whatever the number of jobs."""

from __future__ import annotations

from python_calamine import CalamineWorkbook

from cascadebook import reconcile, write_master
from conftest import clean_initiative, clean_kpi


def _cells(path):
    book = CalamineWorkbook.from_path(str(path))
    return {name: book.get_sheet_by_name(name).to_python() for name in book.sheet_names}


def test_master_is_identical_with_one_or_two_jobs(strategy, key, fill, returned, tmp_path):
    for i, code in enumerate(["MKT", "SAL", "OPS", "RND", "FIN", "HR"]):
        fill(
            code,
            rows={
                "initiatives": [
                    clean_initiative(f"CO{(i + j) % 7 + 1}", f"{code} idea {j}", 1, 2 + j) for j in range(3)
                ],
                "kpis": [clean_kpi(f"{code}-I0{j + 1}", f"kpi {j}") for j in range(3)],
            },
        )
        fill(code, f"{code} draft.xlsx", rows={"initiatives": [clean_initiative("CO1", "draft", 1, "two")]})
    (returned / "junk.xlsx").write_bytes(b"not a workbook")
    masters = []
    for jobs in (1, 2):
        result = reconcile(strategy, [returned], key=key, jobs=jobs)
        result.generated_at = "2027-02-01T00:00:00+00:00"
        masters.append(_cells(write_master(result, tmp_path / f"master-{jobs}.xlsx")))
        assert len(result.sources) == 13
    assert masters[0] == masters[1]
