"""Shared fixtures: a strategy in a temp folder, its templates, and filling them as a person would."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from cascadebook import generate, load_key, load_strategy
from fill import fill_workbook
from libreoffice import soffice, uno_available

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_STRATEGY = ROOT / "samples" / "strategy.yaml"


# ---- CI: nothing is skipped ------------------------------------------------------------------------
# .ci/run sets CI=true (so does every CI service). Under CI a test whose tool is missing fails, and any
# skip at all is turned into a failure (see the hooks below): a green CI run ran every test.


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


IN_CI = in_ci()


def require_libreoffice() -> str:
    """The soffice binary. Missing: a failure under CI (.ci/run installs it), a skip with the reason locally.

    Tests marked ``@pytest.mark.libreoffice`` call this before they run (see pytest_runtest_setup)."""
    binary = soffice()
    if binary is not None:
        return binary
    if IN_CI:
        pytest.fail("LibreOffice (soffice) is missing under CI: .ci/run installs libreoffice-calc", pytrace=False)
    pytest.skip("LibreOffice (soffice) is not installed (CI installs it; -m 'not libreoffice' deselects these tests)")


def require_uno() -> None:
    """That libreoffice.type_cells can run (soffice, and python3-uno for the system Python). Missing: a
    failure under CI (.ci/run installs python3-uno), a skip with the reason locally."""
    if uno_available():
        return
    if IN_CI:
        pytest.fail("python3-uno (or soffice) is missing under CI: .ci/run installs python3-uno", pytrace=False)
    pytest.skip("LibreOffice's python3-uno is not importable by /usr/bin/python3, or soffice is missing")


def libreoffice_version() -> tuple[int, ...] | None:
    """(major, minor, ...) of the installed LibreOffice, from ``soffice --version``; None without one."""
    import re

    binary = soffice()
    if binary is None:
        return None
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=120, check=False).stdout
    found = re.search(r"(\d+)\.(\d+)(?:\.(\d+))?", out)
    return tuple(int(part) for part in found.groups() if part is not None) if found else None


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    if item.get_closest_marker("libreoffice") is not None:
        require_libreoffice()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    _no_skip_in_ci(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    outcome = yield
    _no_skip_in_ci(outcome.get_result())


def _no_skip_in_ci(report) -> None:
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        reason = reason.removeprefix("Skipped: ")
        report.outcome = "failed"
        report.longrepr = f"skipped under CI, where every test must run: {reason}"


def pytest_report_header(config):
    version = (
        soffice()
        and subprocess.run(
            [soffice(), "--version"], capture_output=True, text=True, timeout=120, check=False
        ).stdout.strip()
    )
    return [
        (
            f"CI: {'yes (skips fail)' if IN_CI else 'no'}; hypothesis profile: {HYPOTHESIS_PROFILE}; "
            f"LibreOffice: {version or 'not installed'}"
        )
    ]


# Hypothesis: under CI a bounded, reproducible profile with no wall-clock limit (a test that sets its
# own max_examples keeps it). HYPOTHESIS_PROFILE=ci runs it locally.
settings.register_profile(
    "ci",
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
HYPOTHESIS_PROFILE = os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if IN_CI else "default")
settings.load_profile(HYPOTHESIS_PROFILE)


def clean_initiative(objective: str, title: str, baseline: float, target: float, **extra) -> dict:
    row = dict(
        objective_id=objective,
        title=title,
        expected_impact=f"{title}: measurable result",
        metric="Metric",
        unit="count",
        baseline=baseline,
        target=target,
        due_period="Q3",
        owner="Owner Name",
    )
    row.update(extra)
    return row


def clean_kpi(initiative_id: str, name: str, **extra) -> dict:
    row = dict(
        initiative_id=initiative_id,
        level="Team",
        team="Team A",
        owner="Kpi Owner",
        name=name,
        unit="count",
        baseline=1,
        target=5,
        frequency="Monthly",
        due_period="Q4",
    )
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
from finding_recorder import (  # noqa: E402, F401 - pytest hooks, found by name in conftest
    pytest_collection_finish,
    pytest_collection_modifyitems,
    pytest_configure,
    pytest_deselected,
    pytest_runtest_logreport,
)
