"""CI cannot hide a missing piece: every package a test imports is declared, a skip under CI is a
failure, a missing LibreOffice or python3-uno fails under CI and skips (with its reason) elsewhere,
Hypothesis runs a bounded reproducible profile under CI, and .ci/run runs README's test command in a
fresh venv with CI set."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from hypothesis import settings

from conftest import IN_CI

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"


def _declared() -> tuple[set[str], set[str]]:
    """(runtime dependencies, the test extra) of pyproject.toml, as normalised distribution names."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10: the metadata installed from pyproject.toml
        requires = metadata.requires("cascadebook") or []
        runtime = [r for r in requires if "extra ==" not in r]
        test = [r.split(";")[0] for r in requires if re.search(r"""extra\s*==\s*["']test["']""", r)]
    else:
        project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
        runtime, test = project["dependencies"], project["optional-dependencies"]["test"]
    for requirement in test:
        assert re.search(r">=\s*\d", requirement), f"{requirement!r} in the test extra has no lower bound"
    return {_name(r) for r in runtime}, {_name(r) for r in test}


def _name(requirement: str) -> str:
    return re.sub(r"[-_.]+", "-", re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement).group(1)).lower()


def _third_party_imports(folders: list[Path]) -> dict[str, set[str]]:
    """Top-level modules imported by the .py files under ``folders`` that are neither the standard
    library nor the project's own (cascadebook, the tests' and benchmarks' modules) -> files."""
    local = (
        {p.stem for folder in folders for p in folder.rglob("*.py")}
        | {p.name for folder in folders for p in folder.rglob("*") if p.is_dir()}
        | {"cascadebook"}
    )
    found: dict[str, set[str]] = {}
    for folder in folders:
        for path in folder.rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    top = name.split(".")[0]
                    if top not in sys.stdlib_module_names and top not in local:
                        found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


# Modules no pip package provides, imported only by scripts the tests run under the system Python:
# module -> (the Debian package .ci/run installs for it, the only files that may import it).
SYSTEM_PYTHON_MODULES = {
    "uno": ("python3-uno", {"tests/uno_type.py"}),
    "com": ("python3-uno", {"tests/uno_type.py"}),  # com.sun.star.*: UNO's types, importable after `import uno`
}


def test_every_package_the_tests_import_is_declared_in_the_test_extra():
    """A package that arrives only as another package's dependency (cryptography, olefile) or as a
    runtime dependency src/ does not use (pandas) must be in the test extra: .ci/run installs nothing else.
    The exception is a Debian package for the system Python, which .ci/run must then install."""
    runtime, test = _declared()
    distributions = metadata.packages_distributions()
    used_by_src = {_name(d) for m in _third_party_imports([ROOT / "src"]) for d in distributions.get(m, [m])}
    imported = _third_party_imports([TESTS, ROOT / "benchmarks"])
    ci_run = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    apt = re.search(r"for pkg in ([^;]*);", ci_run).group(1).split()
    for module, (debian, allowed) in SYSTEM_PYTHON_MODULES.items():
        assert debian in apt, f"{module} comes from {debian}, which .ci/run does not install"
        assert imported.pop(module, set()) <= allowed, f"{module} is only for scripts run by the system Python"
    assert {"cryptography", "olefile", "msoffcrypto", "hypothesis", "pytest"} <= set(imported)  # the scan sees them
    missing = {}
    for module, files in sorted(imported.items()):
        dists = {_name(d) for d in distributions.get(module, [module])}
        if not dists & (test | (runtime & used_by_src)):
            missing[module] = (sorted(dists), sorted(files))
    assert not missing, f"imported by tests/benchmarks but not declared in the test extra: {missing}"


def _pytest(tmp_path: Path, source: str, **env: str) -> subprocess.CompletedProcess:
    """Run pytest on one test file with this suite's conftest as a plugin, in a clean environment."""
    (tmp_path / "test_probe.py").write_text(source, encoding="utf-8")
    environ = {k: v for k, v in os.environ.items() if k not in ("CI", "HYPOTHESIS_PROFILE", "PYTEST_ADDOPTS")}
    environ.update(PYTHONPATH=os.pathsep.join([str(TESTS), *filter(None, [os.environ.get("PYTHONPATH")])]), **env)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-rs",
            "-p",
            "conftest",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:randomly",
            "-o",
            "markers=libreoffice: converts with LibreOffice",
            str(tmp_path / "test_probe.py"),
        ],
        cwd=tmp_path,
        env=environ,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


PROBE = """
import pytest

def test_a_tool_is_missing():
    pytest.skip("no such tool here")

@pytest.mark.libreoffice
def test_converts_with_libreoffice():
    pass

def test_runs():
    pass

@pytest.fixture(scope="module")
def uno():
    from conftest import require_uno
    require_uno()

def test_types_in_calc(uno):
    pass
"""


def test_a_skip_and_a_missing_libreoffice_or_uno_fail_under_ci_and_skip_with_a_reason_elsewhere(tmp_path):
    no_soffice = os.path.dirname(sys.executable)  # a PATH on which there is no soffice
    local = _pytest(tmp_path, PROBE, PATH=no_soffice)
    assert local.returncode == 0, local.stdout[-3000:]
    assert "1 passed, 3 skipped" in local.stdout and "no such tool here" in local.stdout
    assert "LibreOffice (soffice) is not installed" in local.stdout
    assert "python3-uno is not importable by /usr/bin/python3, or soffice is missing" in local.stdout

    ci = _pytest(tmp_path, PROBE, PATH=no_soffice, CI="true")
    assert ci.returncode == 1, ci.stdout[-3000:]
    assert "1 failed, 1 passed, 2 errors" in ci.stdout and "skipped" not in ci.stdout.splitlines()[-1]
    assert "skipped under CI, where every test must run: no such tool here" in ci.stdout
    assert "LibreOffice (soffice) is missing under CI" in ci.stdout
    assert "python3-uno (or soffice) is missing under CI: .ci/run installs python3-uno" in ci.stdout


def test_ci_runs_a_bounded_reproducible_hypothesis_profile(tmp_path):
    ci = settings.get_profile("ci")
    assert ci.max_examples <= 100 and ci.deadline is None and ci.derandomize and ci.database is None
    if IN_CI:
        assert settings.default.derandomize and settings.default.deadline is None
    probe = _pytest(
        tmp_path,
        "from hypothesis import settings\n\ndef test_profile():\n"
        "    assert settings.default.derandomize and settings.default.deadline is None\n",
        CI="true",
    )
    assert probe.returncode == 0 and "1 passed" in probe.stdout, probe.stdout[-3000:]


def test_ci_run_is_readme_s_test_command_in_a_fresh_venv_with_ci_set():
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    [command] = re.findall(r"^python3 -m venv \.venv && \. \.venv/bin/activate && (.+pytest.*)$", readme, re.M)
    assert command.replace("pip install", "python -m pip install") in script or command in script, command
    assert re.search(r"^export CI=true\b", script, re.M)
    assert re.search(r"^rm -rf \.ci-venv$", script, re.M) and "python3 -m venv .ci-venv" in script


# The checks README's Contributing section names, in the order .ci/run makes them, all before the tests.
LINT_STEPS = ["ruff check .", "ruff format --check .", "python scripts/mypy_baseline.py", "lint-imports", "deptry src"]


def test_ci_run_makes_the_lint_checks_before_the_tests_each_named_in_its_output():
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    lines = [line.strip() for line in script.splitlines()]
    install = lines.index("pip install -q -e '.[lint]'")
    tests = next(i for i, line in enumerate(lines) if line.endswith("python -m pytest -q"))
    at = [lines.index(step) for step in LINT_STEPS]  # ValueError names a step .ci/run does not run
    assert install < at[0] and at == sorted(at) and at[-1] < tests, (install, at, tests)
    for i, step in zip(at, LINT_STEPS):
        assert lines[i - 1].startswith('echo "== ') and step.split()[0] in lines[i - 1], (step, lines[i - 1])
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    contributing = readme.split("## Contributing", 1)[1].split("\n## ", 1)[0]
    for step in LINT_STEPS:
        assert step in contributing, f"README's Contributing section does not name {step!r}"


def test_the_lint_extra_holds_the_checkers_with_lower_bounds():
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10: the metadata installed from pyproject.toml
        requires = [
            r.split(";")[0]
            for r in metadata.requires("cascadebook") or []
            if re.search(r"""extra\s*==\s*["']lint["']""", r)
        ]
    else:
        requires = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
            "optional-dependencies"
        ]["lint"]
    assert {_name(r) for r in requires} == {"ruff", "mypy", "import-linter", "deptry"}, requires
    for requirement in requires:
        assert re.search(r">=\s*\d", requirement), f"{requirement!r} in the lint extra has no lower bound"
