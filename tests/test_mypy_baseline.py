"""scripts/mypy_baseline.py holds each module to its baseline: more errors fail and are named, fewer ask
for the baseline to be lowered, and --update never raises it unless told the errors only moved.

mypy's own run is replaced by a canned report here (mypy is in the lint extra, not the test one);
.ci/run runs the script for real."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def baseline(tmp_path, monkeypatch):
    """The script as a module, its baseline file in tmp_path, and a setter for what mypy 'reports'."""
    spec = importlib.util.spec_from_file_location("mypy_baseline", ROOT / "scripts" / "mypy_baseline.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "BASELINE", tmp_path / ".mypy-baseline.json")
    report: dict[str, list[str]] = {}
    monkeypatch.setattr(module, "run_mypy", lambda: {m: sorted(e) for m, e in report.items()})
    module.report = report
    return module


def _mypy_lines(module, text: str) -> dict[str, list[str]]:
    """Parse mypy's plain output the way run_mypy does."""
    errors: dict[str, list[str]] = {}
    for line in text.splitlines():
        m = module.ERROR.match(line)
        if m:
            errors.setdefault(module._module(m["path"]), []).append(module._normalise(m["code"], m["message"]))
    return errors


def test_mypy_output_is_counted_per_module_without_line_numbers(baseline):
    out = (
        'src/cascadebook/spec/values.py:477: error: Name "parse" already defined on line 462  [no-redef]\n'
        "src/cascadebook/spec/values.py:480: note: Possible overload variants:\n"
        'src/cascadebook/mail/__init__.py:3:5: error: Item "None" of "X | None" has no attribute "a"  [union-attr]\n'
        "src/cascadebook/cli.py:9: error: Unused \"type: ignore\" comment  [unused-ignore]\n"
    )
    assert _mypy_lines(baseline, out) == {
        "cascadebook.spec.values": ['[no-redef] Name "parse" already defined on line N'],
        "cascadebook.mail": ['[union-attr] Item "None" of "X | None" has no attribute "a"'],
        "cascadebook.cli": ['[unused-ignore] Unused "type: ignore" comment'],
    }


def test_a_module_with_more_errors_fails_and_names_only_the_new_ones(baseline, capsys):
    baseline.report.update({"cascadebook.a": ["[x] old", "[x] old"], "cascadebook.b": ["[y] kept"]})
    assert baseline.main(["--update"]) == 0
    baseline.report["cascadebook.a"] = ["[x] old", "[x] old", "[x] old", "[z] new"]
    assert baseline.main([]) == 1
    out = capsys.readouterr().out
    assert "cascadebook.a: 4 errors, baseline 2; new:\n    [x] old\n    [z] new\n" in out
    assert "cascadebook.b" not in out
    # A module the baseline has never seen counts from zero.
    baseline.report["cascadebook.a"] = ["[x] old", "[x] old"]
    baseline.report["cascadebook.c"] = ["[w] fresh"]
    assert baseline.main([]) == 1
    assert "cascadebook.c: 1 errors, baseline 0; new:\n    [w] fresh" in capsys.readouterr().out


def test_fewer_errors_pass_and_ask_for_the_baseline_to_be_lowered(baseline, capsys):
    baseline.report.update({"cascadebook.a": ["[x] one", "[x] two"], "cascadebook.b": ["[y] gone"]})
    assert baseline.main(["--update"]) == 0
    baseline.report["cascadebook.a"] = ["[x] one"]
    del baseline.report["cascadebook.b"]
    assert baseline.main([]) == 0
    out = capsys.readouterr().out
    assert "cascadebook.a: 1 errors, baseline 2" in out and "cascadebook.b: 0 errors, baseline 1" in out
    assert "python scripts/mypy_baseline.py --update" in out
    assert baseline.main(["--update"]) == 0
    saved = json.loads(baseline.BASELINE.read_text(encoding="utf-8"))
    assert saved["modules"] == {"cascadebook.a": ["[x] one"]} and saved["total"] == 1


def test_update_never_raises_the_baseline_unless_the_errors_moved(baseline, capsys):
    baseline.report["cascadebook.a"] = ["[x] one"]
    assert baseline.main(["--update"]) == 0
    before = baseline.BASELINE.read_text(encoding="utf-8")
    baseline.report["cascadebook.a"] = ["[x] one", "[x] two"]
    assert baseline.main(["--update"]) == 1
    assert "not raised" in capsys.readouterr().out
    assert baseline.BASELINE.read_text(encoding="utf-8") == before
    # Code moved from a to b with its error: said so explicitly, the baseline follows.
    baseline.report.clear()
    baseline.report.update({"cascadebook.a": ["[x] one"], "cascadebook.b": ["[x] two"]})
    assert baseline.main(["--update", "--accept-new"]) == 0
    saved = json.loads(baseline.BASELINE.read_text(encoding="utf-8"))["modules"]
    assert saved == {"cascadebook.a": ["[x] one"], "cascadebook.b": ["[x] two"]}


def test_the_committed_baseline_is_what_the_script_writes():
    """Sorted modules, sorted messages, a total that adds up: a hand edit that raises a count shows in review."""
    data = json.loads((ROOT / ".mypy-baseline.json").read_text(encoding="utf-8"))
    modules = data["modules"]
    assert list(modules) == sorted(modules) and all(errors == sorted(errors) for errors in modules.values())
    assert data["total"] == sum(len(errors) for errors in modules.values())
    assert all(m.startswith("cascadebook") and errors for m, errors in modules.items())
