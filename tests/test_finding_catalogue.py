"""Every code of the findings catalogue is produced by the product in at least one test.

finding_recorder.py (a plugin conftest.py loads) records the code of every Finding cascadebook makes
while the suite runs, in this process or in reconcile's worker processes. The catalogue test runs last
and, when the whole suite ran, fails naming each code no test made the product emit: a finding code
no test produces is a branch no test has seen.
"""
from __future__ import annotations

import pytest

from cascadebook import reconcile
from cascadebook.findings import CATALOGUE, Finding
from conftest import clean_initiative
from finding_recorder import STATE


def test_the_recorder_sees_findings_made_by_the_product_in_worker_processes(strategy, key, returned, fill):
    """Four returns reconciled by two worker processes: the row findings made there are recorded here;
    a finding a test writes by hand is not."""
    saved = set(STATE.produced)
    STATE.produced.clear()
    try:
        Finding("formula-text", "typed by a test")
        assert STATE.produced == set()
        for code in ("MKT", "SAL", "OPS", "FIN"):
            fill(code, rows={"initiatives": [clean_initiative("CO1", "Campaign", 60, "ten")]})
        result = reconcile(strategy, [returned], key=key, jobs=2)
        assert len(result.sources) == 4 and {f.code for f in result.findings} >= {"wrong-type"}
        assert "wrong-type" in STATE.produced  # validated in the workers
        assert "department-not-returned" in STATE.produced  # made in this process
        assert "formula-text" not in STATE.produced
    finally:
        STATE.produced |= saved


def test_every_finding_code_is_produced_by_some_test():
    missing = [code for code in CATALOGUE if code not in STATE.produced]
    if not STATE.whole:
        pytest.skip(f"only checked when the whole suite runs ({STATE.why_not_whole})")
    if STATE.failed:
        pytest.skip(f"{len(STATE.failed)} test(s) failed; codes not produced: {', '.join(missing) or 'none'}")
    if STATE.skipped and missing:
        pytest.skip(f"{len(STATE.skipped)} test(s) skipped (e.g. {STATE.skipped[0]}); codes not produced: "
                    f"{', '.join(missing)}")
    assert not missing, f"finding codes no test makes the product produce: {', '.join(missing)}"
