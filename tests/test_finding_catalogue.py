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
from finding_recorder import STATE, State, verdict


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


def test_the_verdict_fails_only_a_whole_run_that_missed_a_code():
    codes = ["file-refused", "missing-sheet"]
    whole = State(produced={"file-refused"}, whole=True)
    assert verdict(whole, codes) == ("fail", "finding codes no test makes the product produce: missing-sheet")
    assert verdict(State(produced=set(codes), whole=True), codes) == ("pass", "")
    skipped = State(produced={"file-refused"}, whole=True, skipped=["tests/test_x.py::test_y"])
    assert verdict(skipped, codes)[0] == "fail" and "skipped: tests/test_x.py::test_y" in verdict(skipped, codes)[1]
    part = State(produced=set(), whole=False, why_not_whole="-k 'mail' selects tests")
    assert verdict(part, codes) == ("skip", "only checked when the whole suite runs (-k 'mail' selects tests)")
    failed = State(produced={"file-refused"}, whole=True, failed=["tests/test_x.py::test_z"])
    assert verdict(failed, codes) == ("skip", "1 test(s) failed; codes not produced: missing-sheet")


def test_every_finding_code_is_produced_by_some_test():
    """Runs last (finding_recorder puts it there). Fails naming each catalogue code that no test of the
    whole suite made the product produce."""
    outcome, why = verdict(STATE, list(CATALOGUE))
    if outcome == "skip":
        pytest.skip(why)
    assert outcome == "pass", why
