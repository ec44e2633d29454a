"""Strategy input: YAML and workbook load into the same model; SMART problems reported all at once."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
import yaml

from cascadebook import StrategyError, load_strategy, read_strategy
from conftest import ROOT, SAMPLE_STRATEGY
from strategy_book import write_strategy_workbook


def test_yaml_and_workbook_samples_are_the_same_strategy():
    from_yaml = load_strategy(SAMPLE_STRATEGY)
    from_book = load_strategy(ROOT / "samples" / "strategy.xlsx")
    assert from_yaml.objectives == from_book.objectives
    assert from_yaml.departments == from_book.departments
    assert (from_yaml.cycle, from_yaml.periods, from_yaml.response_deadline) == (
        from_book.cycle,
        from_book.periods,
        from_book.response_deadline,
    )
    assert len(from_yaml.objectives) >= 6 and len(from_yaml.departments) == 6
    assert {o.financial for o in from_yaml.objectives} == {True, False}


def _broken_yaml(tmp_path: Path) -> Path:
    data = yaml.safe_load(SAMPLE_STRATEGY.read_text())
    data["objectives"][0].pop("metric")
    data["objectives"][1]["target"] = data["objectives"][1]["baseline"]
    data["objectives"][2]["target"] = 0.1  # increase objective with target below the baseline
    data["objectives"][3]["id"] = "CO1"
    data["objectives"][4]["deadline"] = "someday"
    data["departments"][1]["email"] = "marcus at northwind"
    data["departments"][2]["parent"] = "XYZ"
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_every_smart_problem_is_reported_with_its_yaml_path(tmp_path):
    strategy, findings = read_strategy(_broken_yaml(tmp_path))
    assert strategy is None
    assert sorted((f.code, f.location) for f in findings) == sorted(
        [
            ("strategy-missing-value", "objectives[0].metric"),
            ("target-equals-baseline", "objectives[1].target"),
            ("target-against-direction", "objectives[2].target"),
            ("duplicate-id", "objectives[3].id"),
            ("strategy-wrong-type", "objectives[4].deadline"),
            ("invalid-email", "departments[1].email"),
            ("unknown-parent", "departments[2].parent"),
        ]
    )
    with pytest.raises(StrategyError):
        load_strategy(tmp_path / "broken.yaml")


def test_workbook_problems_point_at_sheet_and_cell(tmp_path):
    path = write_strategy_workbook(load_strategy(SAMPLE_STRATEGY), tmp_path / "s.xlsx")
    book = openpyxl.load_workbook(path)
    book["Objectives"]["H3"] = book["Objectives"]["G3"].value  # CO2 target = baseline
    book["Objectives"]["E2"] = None  # CO1 metric missing
    book["Departments"]["D3"] = "not-an-email"
    book.save(path)
    _, findings = read_strategy(path)
    assert sorted((f.code, f.sheet, f.cell) for f in findings) == [
        ("invalid-email", "Departments", "D3"),
        ("strategy-missing-value", "Objectives", "E2"),
        ("target-equals-baseline", "Objectives", "H3"),
    ]


def test_unreadable_strategy_is_a_finding_not_a_traceback(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("objectives: [unclosed")
    strategy, findings = read_strategy(bad)
    assert strategy is None and findings[0].code == "strategy-invalid"
    _, findings = read_strategy(tmp_path / "missing.yaml")
    assert findings[0].code == "strategy-invalid"
    (tmp_path / "s.txt").write_text("x")
    _, findings = read_strategy(tmp_path / "s.txt")
    assert "expected a .yaml strategy" in findings[0].message


@pytest.mark.parametrize("typed", ["$", "US Dollar", "EURO", "U$D", "12"])
def test_a_currency_that_is_not_an_iso_code_is_a_strategy_error_in_yaml_and_workbook(tmp_path, typed):
    """The currency builds every money format: '$' or 'US Dollar' would make a format nobody meant, so
    it is refused where it was typed (the YAML key, the workbook cell), as other wrong fields are."""
    data = yaml.safe_load(SAMPLE_STRATEGY.read_text())
    data["currency"] = typed
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    strategy, findings = read_strategy(path)
    assert strategy is None
    assert [(f.code, f.location) for f in findings] == [("strategy-wrong-type", "currency")]
    assert "ISO 4217" in findings[0].message and repr(typed) in findings[0].message
    with pytest.raises(StrategyError):
        load_strategy(path)

    book_path = write_strategy_workbook(load_strategy(SAMPLE_STRATEGY), tmp_path / "s.xlsx")
    book = openpyxl.load_workbook(book_path)
    ws = book["Strategy"]
    row = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "Currency")
    ws.cell(row, 2).value = typed
    book.save(book_path)
    strategy, findings = read_strategy(book_path)
    assert strategy is None
    assert [(f.code, f.sheet, f.cell) for f in findings] == [("strategy-wrong-type", "Strategy", f"B{row}")]


@pytest.mark.parametrize(("typed", "kept"), [("EUR", "EUR"), (" sek ", "SEK"), ("", "")])
def test_an_iso_currency_code_is_kept_in_capitals(tmp_path, typed, kept):
    data = yaml.safe_load(SAMPLE_STRATEGY.read_text())
    data["currency"] = typed
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    assert load_strategy(path).currency == kept
