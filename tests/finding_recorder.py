"""A pytest plugin (its hooks are imported by conftest.py): which finding codes the product made.

Every ``Finding`` that cascadebook's own code constructs during the session is recorded by its code
(a ``Finding`` a test writes by hand is not: the constructor's caller must be a cascadebook module).
Findings made in reconcile's worker processes reach the parent pickled inside the returns; they are
recorded when they are unpickled here. test_finding_catalogue.py runs last and fails for any code of
the catalogue that no test made the product produce, when the whole suite ran (no -k, -m, file, test
or --ignore selection, nothing deselected, no test failed); otherwise it skips, saying why.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from cascadebook import findings as _findings

CATALOGUE_TEST = "test_finding_catalogue.py::test_every_finding_code_is_produced_by_some_test"
TESTS = Path(__file__).resolve().parent


@dataclass
class State:
    produced: set[str] = field(default_factory=set)
    whole: bool = False  # the session collected the whole suite, nothing selected or deselected
    why_not_whole: str = ""
    deselected: int = 0
    skipped: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    installed: bool = False


STATE = State()


def _made_by_product() -> bool:
    frame = sys._getframe(3)  # 0: here, 1: _recording_post_init, 2: the dataclass __init__, 3: its caller
    while frame is not None and frame.f_globals.get("__name__") in ("dataclasses", "copy"):
        frame = frame.f_back  # dataclasses.replace(finding, ...): whoever called replace
    return frame is not None and str(frame.f_globals.get("__name__", "")).startswith("cascadebook")


def install() -> None:
    if STATE.installed:
        return
    STATE.installed = True
    cls = _findings.Finding
    original = cls.__post_init__

    def _recording_post_init(self) -> None:
        original(self)
        if _made_by_product():
            STATE.produced.add(self.code)

    def _recording_setstate(self, state) -> None:
        """Unpickling: a finding made by a worker process of reconcile (tests make none there)."""
        if isinstance(state, tuple):  # (dict, slots)
            state = {**(state[0] or {}), **(state[1] or {})}
        for name, value in (state or {}).items():
            object.__setattr__(self, name, value)
        STATE.produced.add(self.code)

    cls.__post_init__ = _recording_post_init
    cls.__setstate__ = _recording_setstate


def pytest_configure(config) -> None:
    install()


def pytest_deselected(items) -> None:
    STATE.deselected += len(items)


def _whole_suite(config) -> str:
    """ "" when the session was started on the whole suite, else why not."""
    if config.option.keyword:
        return f"-k {config.option.keyword!r} selects tests"
    if config.option.markexpr:
        return f"-m {config.option.markexpr!r} selects tests"
    ignored = [*(config.getoption("ignore") or ()), *(config.getoption("ignore_glob") or ())]
    if ignored:
        return f"--ignore {ignored[0]} leaves tests out"
    for arg in config.args:
        if "::" in arg:
            return f"{arg} selects tests"
        path = Path(config.invocation_params.dir, arg).resolve()
        if path not in (TESTS, TESTS.parent):
            return f"{arg} is not the whole suite"
    return ""


def pytest_collection_modifyitems(session, config, items) -> None:
    """Put the catalogue test last; note whether the session is the whole suite."""
    last = [item for item in items if item.nodeid.endswith(CATALOGUE_TEST)]
    if last:
        items[:] = [item for item in items if item not in last] + last
    STATE.why_not_whole = _whole_suite(config)


def pytest_collection_finish(session) -> None:
    if not STATE.why_not_whole and STATE.deselected:
        STATE.why_not_whole = f"{STATE.deselected} test(s) deselected"
    STATE.whole = not STATE.why_not_whole


def pytest_runtest_logreport(report) -> None:
    if report.nodeid.endswith(CATALOGUE_TEST):
        return
    if report.skipped:
        STATE.skipped.append(report.nodeid)
    elif report.failed:
        STATE.failed.append(report.nodeid)


def verdict(state: State, codes) -> tuple[str, str]:
    """("pass" | "skip" | "fail", why) for the catalogue test, given the codes of the catalogue."""
    missing = [code for code in codes if code not in state.produced]
    if not state.whole:
        return "skip", f"only checked when the whole suite runs ({state.why_not_whole})"
    if state.failed:
        return "skip", f"{len(state.failed)} test(s) failed; codes not produced: {', '.join(missing) or 'none'}"
    if missing:
        skipped = f" ({len(state.skipped)} test(s) were skipped: {state.skipped[0]}, ...)" if state.skipped else ""
        return "fail", f"finding codes no test makes the product produce: {', '.join(missing)}{skipped}"
    return "pass", ""
