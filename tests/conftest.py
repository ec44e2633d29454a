"""Shared fixtures: a strategy in a temp folder, its templates, and filling them as a person would."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cascadebook import generate, load_key, load_strategy
from cascadebook.fill import fill_workbook

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_STRATEGY = ROOT / "samples" / "strategy.yaml"


def clean_initiative(objective: str, title: str, baseline: float, target: float, **extra) -> dict:
    row = dict(objective_id=objective, title=title, expected_impact=f"{title}: measurable result",
               metric="Metric", unit="count", baseline=baseline, target=target, due_period="Q3", owner="Owner Name")
    row.update(extra)
    return row


def clean_kpi(initiative_id: str, name: str, **extra) -> dict:
    row = dict(initiative_id=initiative_id, level="Team", team="Team A", owner="Kpi Owner", name=name,
               unit="count", baseline=1, target=5, frequency="Monthly", due_period="Q4")
    row.update(extra)
    return row


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    shutil.copyfile(SAMPLE_STRATEGY, tmp_path / "strategy.yaml")
    return tmp_path


@pytest.fixture
def strategy_path(workdir: Path) -> Path:
    return workdir / "strategy.yaml"


@pytest.fixture
def strategy(strategy_path: Path):
    return load_strategy(strategy_path)


@pytest.fixture
def key(strategy_path: Path) -> bytes:
    return load_key(strategy_path, create=True)


@pytest.fixture
def templates(strategy, key, workdir: Path) -> dict[str, Path]:
    paths = generate(strategy, workdir / "outbox", key=key, generated_at="2027-01-04T09:00:00+00:00")
    return {p.stem.split("_")[-1]: p for p in paths}


@pytest.fixture
def returned(workdir: Path) -> Path:
    folder = workdir / "returned"
    folder.mkdir()
    return folder


@pytest.fixture
def fill(templates, returned):
    """fill("MKT", "any name.xlsx", rows={...}, cells={"Initiatives!C5": "x"}) -> path of the filled copy."""

    def _fill(code: str, name: str | None = None, **kwargs) -> Path:
        return fill_workbook(templates[code], returned / (name or f"{code}.xlsx"), **kwargs)

    return _fill


# Which finding codes the product produces during the session (test_finding_catalogue.py checks all are).
from finding_recorder import (pytest_collection_finish, pytest_collection_modifyitems,  # noqa: E402,F401
                              pytest_configure, pytest_deselected, pytest_runtest_logreport)
