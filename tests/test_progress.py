"""Progress math: share of the way, caps, direction, weights, expected progress and RAG."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from cascadebook.consolidate.progress import (
    Actual,
    Item,
    Thresholds,
    compute_progress,
    expected_share,
    resolve_weights,
    share_of_way,
    weighted_mean,
)


def test_share_of_the_way_from_baseline_to_target():
    assert share_of_way(40, 150, 62).progress == pytest.approx(0.2)
    assert share_of_way(0.15, 0.22, 0.17).progress == pytest.approx(2 / 7)
    assert share_of_way(None, 200, 50).progress == pytest.approx(0.25)  # a missing baseline counts as 0
    assert share_of_way(40, 150, None) is None and share_of_way(40, None, 60) is None


def test_a_decrease_is_progress_when_the_actual_falls():
    assert share_of_way(10, 8, 9.5).progress == pytest.approx(0.25)
    behind = share_of_way(10, 8, 11)
    assert (behind.raw, behind.progress, behind.capped) == (pytest.approx(-0.5), 0.0, True)


def test_beyond_the_target_is_capped_and_the_raw_value_kept():
    beyond = share_of_way(40, 150, 180)
    assert beyond.raw == pytest.approx(140 / 110)
    assert beyond.progress == 1.0 and beyond.capped
    assert not share_of_way(40, 150, 150).capped


def test_holding_the_line_when_target_equals_baseline():
    assert share_of_way(45, 45, 46, "increase").progress == 1.0
    assert share_of_way(45, 45, 44, "increase").progress == 0.0
    assert share_of_way(8, 8, 7.5, "decrease").progress == 1.0
    assert share_of_way(8, 8, 8, "maintain").progress == 1.0
    assert share_of_way(8, 8, 8.5, "maintain").progress == 0.0


def test_missing_weights_count_as_the_mean_of_the_known_ones():
    assert resolve_weights([0.6, None]) == [0.6, 0.6]
    assert resolve_weights([0.3, None, 0.1]) == [0.3, pytest.approx(0.2), 0.1]
    assert resolve_weights([None, None]) == [1.0, 1.0]
    assert resolve_weights([0, None]) == [1.0, 1.0]  # no usable weight: all equal
    assert weighted_mean([(0.6, 0.2), (0.4, None)]) == pytest.approx(0.2)  # not reporting: left out
    assert weighted_mean([(1, None)]) is None


def test_expected_progress_runs_evenly_to_the_due_period():
    periods = ("Q1", "Q2", "Q3", "Q4")
    assert expected_share("Q1", periods) == 0.25
    assert expected_share("Q2", periods, "Q4") == 0.5
    assert expected_share("Q1", periods, "Q2") == 0.5
    assert expected_share("Q3", periods, "Q2") == 1.0  # overdue: it should be done


def test_rag_compares_progress_with_where_it_should_be():
    t = Thresholds(green=0.7, amber=0.4)
    assert t.rag(0.35, 0.5) == "green"  # pace 0.7
    assert t.rag(0.3, 0.5) == "amber"  # pace 0.6
    assert t.rag(0.1, 0.5) == "red"
    assert t.rag(1.0, 1.0) == "green" and t.rag(None, 0.5) is None
    assert Thresholds.of(SimpleNamespace(rag_green=0.9, rag_amber=0.5)) == Thresholds(0.9, 0.5)
    assert Thresholds.of(SimpleNamespace()) == Thresholds(0.7, 0.4)


def test_roll_up_with_split_initiatives_and_carried_actuals():
    strategy = SimpleNamespace(
        periods=("Q1", "Q2", "Q3", "Q4"),
        objectives=[
            SimpleNamespace(id="CO1", title="One", weight=0.75),
            SimpleNamespace(id="CO2", title="Two", weight=0.25),
        ],
        departments=[SimpleNamespace(code="A", name="Alpha"), SimpleNamespace(code="B", name="Beta")],
    )
    items = [
        Item("initiatives", "A", "A-I01", baseline=0, target=100, weight=0.5, objectives=(("CO1", 1.0),)),
        Item("initiatives", "B", "B-I01", baseline=0, target=10, objectives=(("CO1", 0.5), ("CO2", 0.5))),
    ]
    actuals = [
        Actual("initiatives", "A", "A-I01", "Q1", 20),
        Actual("initiatives", "B", "B-I01", "Q1", 5),
        Actual("initiatives", "A", "A-I01", "Q2", 60),
    ]
    report = compute_progress(strategy, items, actuals, ["Q1", "Q2"])
    # Q1: CO1 = (0.5 * 0.2 + (0.5 mean weight * 0.5 share) * 0.5) / (0.5 + 0.25)
    assert report.objective("CO1", "Q1").progress == pytest.approx((0.5 * 0.2 + 0.25 * 0.5) / 0.75)
    # Q2: B did not report; its Q1 actual is carried forward.
    carried = report.item("initiatives", "B", "B-I01", "Q2")
    assert carried.carried and carried.reported_in == "Q1" and carried.progress == 0.5
    assert report.objective("CO1", "Q2").progress == pytest.approx((0.5 * 0.6 + 0.25 * 0.5) / 0.75)
    assert report.objective("CO2", "Q2").progress == pytest.approx(0.5)
    assert report.department("B", "Q2").coverage == "1 of 1"
    overall = report.overall["Q2"]
    assert overall.progress == pytest.approx(0.75 * (0.5 * 0.6 + 0.25 * 0.5) / 0.75 + 0.25 * 0.5)
    assert report.latest == "Q2" and report.to_dict()["latest"] == "Q2"


def test_rag_thresholds_come_from_the_strategy(tmp_path):
    from cascadebook import read_strategy
    from conftest import SAMPLE_STRATEGY

    path = tmp_path / "strategy.yaml"
    path.write_text(SAMPLE_STRATEGY.read_text() + "rag_green: 80%\nrag_amber: 0.5\n")
    strategy, _ = read_strategy(path)
    assert (strategy.rag_green, strategy.rag_amber) == (0.8, 0.5)
    assert Thresholds.of(strategy) == Thresholds(0.8, 0.5)
    path.write_text(SAMPLE_STRATEGY.read_text() + "rag_green: 40%\nrag_amber: 70%\n")
    strategy, findings = read_strategy(path)
    assert strategy is None
    assert [(f.code, f.location) for f in findings] == [("strategy-wrong-type", "rag_amber")]
    default, _ = read_strategy(SAMPLE_STRATEGY)
    assert Thresholds.of(default) == Thresholds(0.7, 0.4)
