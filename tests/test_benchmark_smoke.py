"""Smoke test of the benchmark harness: a 20-return corpus and one round of every case.

No timing is asserted (CI machines vary); this only keeps benchmarks/ runnable: the corpus is a
set of real signed returns that reconcile accepts, and the report has every row it should.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import bench  # noqa: E402
import make_corpus  # noqa: E402

N = 20


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    return make_corpus.make_corpus(N, jobs=2, root=tmp_path_factory.mktemp("corpus"), log=None)


def test_corpus_is_n_signed_returns_that_reconcile_accepts(corpus):
    from cascadebook import load_key, load_strategy, reconcile

    strategy_path = corpus / "strategy.yaml"
    strategy = load_strategy(strategy_path)
    assert len(strategy.departments) == N and len(strategy.objectives) == 8
    result = reconcile(strategy, [corpus / "returns"], key=load_key(strategy_path), jobs=1)
    assert len(result.accepted()) == N
    assert {s.status for s in result.sources} == {"accepted"}
    assert 30 * N <= len(result.initiatives) <= 50 * N
    assert 60 * N <= len(result.kpis) <= 100 * N
    codes = {f.code for f in result.findings}
    assert not codes & {"signature-mismatch", "signature-unverified", "not-a-template", "file-unreadable"}
    assert codes & {"required-missing", "unknown-objective", "wrong-type"}  # the planted mistakes are found
    manifest = make_corpus.read_manifest(corpus)
    assert manifest["version"] == make_corpus.CORPUS_VERSION and manifest["n"] == N


def test_corpus_is_cached(corpus):
    stamp = (corpus / "manifest.json").stat().st_mtime_ns
    assert make_corpus.make_corpus(N, root=corpus.parent, log=None) == corpus
    assert (corpus / "manifest.json").stat().st_mtime_ns == stamp


def test_benchmark_reports_every_case_and_ratio(corpus, tmp_path, capsys):
    results = tmp_path / "results"
    report = bench.main(
        [
            "--n",
            str(N),
            "--rounds",
            "1",
            "--corpus-root",
            str(corpus.parent),
            "--results",
            str(results),
            "--quiet",
            "--markdown",
        ]
    )
    cases = report["runs"][str(N)]
    assert list(cases) == [c.name for c in bench.CASES]
    for case in cases.values():
        assert case["seconds"] > 0 and case["peak_mb"] > 0
    assert report["checks"][str(N)]["reconcile"]["accepted"] == N
    assert cases["intake-j1"]["extra"]["accepted"] == N
    assert cases["intake-j2"]["extra"]["accepted"] == N
    assert cases["e2e"]["extra"]["exit_code"] in (0, 1)
    assert cases["generate"]["extra"]["templates"] == N == cases["generate-bare"]["extra"]["templates"]
    assert report["checks"][str(N)]["generate_parity"]["same_shape"]
    assert {r["what"] for r in report["ratios"]} >= {t[4] for t in bench.TARGETS}
    saved = json.loads((results / "latest.json").read_text())
    assert saved["runs"][str(N)].keys() == cases.keys()
    out = capsys.readouterr().out
    assert "intake <= 2x bare calamine" in out and "| N | case |" in out


def test_rounds_interleave_sizes_so_the_scaling_ratio_compares_runs_side_by_side(tmp_path, monkeypatch):
    """Each round measures every size before the next round begins (a busy spell on a shared machine
    then spreads over both sides of the N=10,000 vs N=1,000 ratio), and the ratio is of the medians."""
    calls = []
    seconds = {(4, 1): 1.0, (8, 1): 2.1, (4, 2): 1.2, (8, 2): 2.0, (4, 3): 1.1, (8, 3): 2.6}

    def fake_corpus(n, jobs=None, root=None, log=None):
        folder = tmp_path / f"corpus-{n}"
        folder.mkdir(exist_ok=True)
        return folder

    def fake_run(case, corpus, work, timeout=None):
        n = int(corpus.name.split("-")[1])
        calls.append((n, case))
        round_ = sum(1 for c in calls if c == (n, case))
        return {
            "seconds": seconds[(n, round_)],
            "cpu_s": seconds[(n, round_)],
            "peak_mb": 10.0 * n,
            "delta_mb": 1.0,
            "workers_mb": 0.0,
            "extra": {},
        }

    monkeypatch.setattr(make_corpus, "make_corpus", fake_corpus)
    monkeypatch.setattr(make_corpus, "read_manifest", lambda corpus: {"n": corpus.name})
    monkeypatch.setattr(bench, "run_case", fake_run)
    report = bench.main(
        ["--n", "4", "--n", "8", "--rounds", "3", "--cases", "e2e", "--results", str(tmp_path / "results"), "--quiet"]
    )
    assert calls == [(4, "e2e"), (8, "e2e")] * 3
    assert report["runs"]["4"]["e2e"]["seconds_all"] == [1.0, 1.2, 1.1]
    scaling = next(r for r in report["ratios"] if r["what"].startswith("e2e time N=8 vs N=4"))
    assert scaling["ratio"] == round(2.1 / 1.1, 2)  # medians: 2.1 s and 1.1 s


def test_a_corpus_over_levels_is_an_org_tree_whose_units_type_their_parents_initiatives(tmp_path):
    """The cascade corpus (``--levels``): every unit below level 1 aligns to its parent's plan, and
    reconcile traces its rows up to the corporate objectives and rolls commitments up the tree."""
    from cascadebook import load_key, load_strategy, reconcile

    corpus = make_corpus.make_corpus(12, jobs=1, root=tmp_path, log=None, levels=3)
    assert corpus.name == "12-levels3" and make_corpus.read_manifest(corpus)["levels"] == 3
    strategy_path = corpus / "strategy.yaml"
    strategy = load_strategy(strategy_path)
    parents = {d.code: d.parent for d in strategy.departments}
    assert [code for code, parent in parents.items() if parent is None] == ["D0001", "D0002"]
    assert (parents["D0003"], parents["D0005"], parents["D0007"]) == ("D0001", "D0001", "D0003")  # dealt round
    result = reconcile(strategy, [corpus / "returns"], key=load_key(strategy_path), jobs=1)
    assert {s.status for s in result.sources} == {"accepted"} and len(result.sources) == 12
    reached = {a.department for a in result.allocations if a.objective_id.startswith("CO")}
    assert reached == set(parents)  # every level reaches the corporate objectives
    levels = {c.level for c in result.cascade.commitments}
    assert levels == {1, 2}  # parent initiatives of both levels above the teams get commitments
