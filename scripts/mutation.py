"""Mutation testing of the core: ``python scripts/mutation.py [--sample N] [--seed S] [MODULE ...]``.

Why: line and branch coverage say a line ran, not that a test would notice it being wrong. mutmut
changes one thing at a time in the modules where a wrong line means a wrong number or a security hole
(a ``>`` made ``>=``, a constant changed, a call dropped) and runs the tests; a change no test notices
("survived") is a behaviour no test states.

How: each module of ``MODULES`` gets its own throw-away copy of the repository under ``.mutation/``
(git-ignored) with a ``[tool.mutmut]`` section that mutates only that module and runs only the
module's focused tests (mutmut narrows them further to the tests that reach the mutated function), so
a mutant costs a second or two, not a whole suite. ``--sample N`` measures a seeded random sample of N
mutants per module when the full set does not fit the time at hand; the report says so and with what
size. Mutants listed in ``scripts/mutation_equivalents/<module>.toml`` (each with the reason it cannot
change behaviour and the text of its changed line, so a renumbered mutant is noticed) are left out of
the score. The report goes to the terminal and to ``.mutation/report.md``; survivors with their diffs to
``.mutation/survivors.txt``.

Needs mutmut (``pip install -e '.[mutation]'`` installs it); it does not run in CI on every change.
"""

from __future__ import annotations

import argparse
import fnmatch
import os
import random
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / ".mutation"
EQUIVALENTS = ROOT / "scripts" / "mutation_equivalents"  # one TOML file per module: <module>.toml
ALSO_COPY = ["samples/", "workbook_templates/", "README.md", "scripts/", "benchmarks/", ".ci/"]
NOT_LIBREOFFICE = ["-m", "not libreoffice"]


@dataclass(frozen=True)
class Target:
    """One module to mutate, the package its score is reported under, and its focused tests."""

    path: str
    package: str
    tests: tuple[str, ...]
    pytest_args: tuple[str, ...] = tuple(NOT_LIBREOFFICE)
    functions: tuple[str, ...] = ()  # glob patterns of the functions that count (empty: all of the module)


MODULES: dict[str, Target] = {
    t.path.removeprefix("src/cascadebook/").removesuffix(".py"): t
    for t in (
        Target(
            "src/cascadebook/intake/rules.py",
            "intake",
            # test_checkin_rules.py and test_survivors.py (workbooks, ~2 s a test) state the same rules as the
            # fast tables of test_rules_behaviour.py, the Check column's formulas included (tests/sheet_formula.py)
            ("test_rules_behaviour.py", "test_rules.py"),
        ),
        Target(
            "src/cascadebook/intake/formulas.py",
            "intake",
            # the formula pieces are evaluated by hand in test_formulas_behaviour.py; the LibreOffice round trips
            # (test_livecheck*.py, ~1 min a mutant) stay in the suite but out of the per-mutant runs
            ("test_formulas_behaviour.py", "test_livecheck_expectations.py"),
        ),
        Target(
            "src/cascadebook/intake/identity.py",
            "intake",
            ("test_identity_behaviour.py",),  # the end-to-end files (2.5 min) state the same table on workbooks
        ),
        Target(
            "src/cascadebook/intake/gate.py",
            "intake",
            # crafted packages built in the test; test_sniff_crafted/test_hostile_files generate templates (slow)
            ("test_gate_behaviour.py", "test_intake_fast_sniff.py"),
        ),
        Target(
            "src/cascadebook/spec/values.py",
            "spec",
            ("test_values_behaviour.py", "test_values.py", "test_intake_fast_values.py"),
        ),
        Target(
            "src/cascadebook/signing.py",
            "signing",
            ("test_signing.py",),
        ),
        Target(
            "src/cascadebook/consolidate/commitments.py",
            "consolidate",
            # the tables of test_commitments_behaviour state what the master's end-to-end tests showed, in
            # milliseconds instead of seconds per mutant
            ("test_commitments_behaviour.py",),
        ),
        Target(
            "src/cascadebook/consolidate/progress.py",
            "consolidate",
            ("test_progress_rollup.py", "test_progress.py"),  # pure functions: no workbook needed
        ),
        Target(
            "src/cascadebook/consolidate/newest.py",
            "consolidate",
            ("test_newest.py",),  # test_trust_counts's selected tests do not reach newest_wins
        ),
        Target(  # test_master_counts.py states every cell of the matrix by hand, in seconds (the end-to-end
            # test_master_finance / test_survivors / test_trust_views cost ~2 s a master and check less of it)
            "src/cascadebook/master/matrix.py",
            "master",
            ("test_master_counts.py",),
        ),
        Target(
            "src/cascadebook/master/hierarchy.py",
            "master",
            ("test_master_counts.py",),
        ),
    )
}


@dataclass
class Outcome:
    """What mutmut found for one module."""

    target: Target
    statuses: dict[str, str] = field(default_factory=dict)  # mutant name -> mutmut status
    sampled: int | None = None  # None: every mutant was run
    total: int = 0
    equivalent: dict[str, str] = field(default_factory=dict)  # name -> reason
    stale: list[str] = field(default_factory=list)  # equivalents whose line no longer matches
    seconds: float = 0.0

    @property
    def counted(self) -> dict[str, str]:
        return {n: s for n, s in self.statuses.items() if n not in self.equivalent and s != "not checked"}

    @property
    def killed(self) -> int:
        return sum(s in ("killed", "timeout", "caught by type check", "segfault") for s in self.counted.values())

    @property
    def score(self) -> float:
        counted = self.counted
        return self.killed / len(counted) if counted else 1.0


def mutmut(workdir: Path, *args: str, check: bool = True) -> str:
    exe = Path(sys.executable).with_name("mutmut")
    run = subprocess.run(
        [str(exe), *args],
        check=False,
        cwd=workdir,
        capture_output=True,
        text=True,
        env={**os.environ, "CI": "", "NO_COLOR": "1"},
    )
    if check and run.returncode != 0:
        raise SystemExit(f"mutmut {' '.join(args[:2])} failed in {workdir}:\n{run.stdout[-3000:]}{run.stderr[-3000:]}")
    return run.stdout


def prepare(name: str, target: Target) -> Path:
    """A fresh copy of the tracked files with a [tool.mutmut] section for this module only."""
    workdir = WORK / name.replace("/", ".")
    shutil.rmtree(workdir, ignore_errors=True)
    files = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"], check=True, cwd=ROOT, capture_output=True, text=True
    )
    for rel in files.stdout.splitlines():
        if rel.startswith("tests/golden/expected/") or not (ROOT / rel).is_file():
            continue
        dest = workdir / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, dest)
    tests = [f"tests/{t}" for t in target.tests if (ROOT / "tests" / t).is_file()]
    section = (
        "\n[tool.mutmut]\n"
        'source_paths = ["src/cascadebook"]\n'
        f"only_mutate = [{_toml(target.path)}]\n"
        f"also_copy = [{', '.join(_toml(p) for p in ALSO_COPY)}]\n"
        f"pytest_add_cli_args_test_selection = [{', '.join(_toml(t) for t in tests)}]\n"
        f"pytest_add_cli_args = [{', '.join(_toml(a) for a in ('-p', 'no:cacheprovider', *target.pytest_args))}]\n"
    )
    pyproject = workdir / "pyproject.toml"
    pyproject.write_text(pyproject.read_text(encoding="utf-8") + section, encoding="utf-8")
    return workdir


def _toml(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def statuses(workdir: Path) -> dict[str, str]:
    found = {}
    for line in mutmut(workdir, "results", "--all", "true").splitlines():
        m = re.match(r"\s*(\S+__mutmut_\d+): (.+)$", line)
        if m:
            found[m.group(1)] = m.group(2).strip()
    return found


def _counts(mutant: str, target: Target) -> bool:
    """Whether a mutant is in one of the target's counted functions (``x_<function>__mutmut_<n>``)."""
    if not target.functions:
        return True
    function = re.sub(r"__mutmut_\d+$", "", mutant.rsplit(".", 1)[-1]).removeprefix("x_")
    return any(fnmatch.fnmatchcase(function, pattern) for pattern in target.functions)


def changed_line(workdir: Path, mutant: str) -> str:
    """The mutated line as mutmut shows it (the ``+`` line of its diff), to pin an equivalent mutant."""
    plus = [ln[1:].strip() for ln in mutmut(workdir, "show", mutant).splitlines() if ln.startswith("+ ")]
    return " / ".join(plus)


def run_module(name: str, target: Target, sample: int | None, seed: int, children: int) -> Outcome:
    began = time.perf_counter()
    workdir = prepare(name, target)
    # First pass: generate the mutants and collect which tests reach which function, running no mutant.
    mutmut(workdir, "run", "--max-children", str(children), "no.such.mutant__mutmut_0", check=False)
    every = statuses(workdir)
    names = sorted(n for n in every if _counts(n, target))
    chosen = names
    if sample is not None and sample < len(names):
        chosen = sorted(random.Random(f"{seed}:{name}").sample(names, sample))
    for start in range(0, len(chosen), 200):  # keep the command line short
        mutmut(workdir, "run", "--max-children", str(children), *chosen[start : start + 200], check=False)
    outcome = Outcome(target, total=len(names), sampled=len(chosen) if chosen is not names else None)
    outcome.statuses = {n: s for n, s in statuses(workdir).items() if n in set(chosen)}
    listed = EQUIVALENTS / f"{name.replace('/', '.')}.toml"
    known = tomllib.loads(listed.read_text(encoding="utf-8")) if listed.is_file() else {}
    for mutant, entry in known.items():
        if mutant not in outcome.statuses:
            continue
        if changed_line(workdir, mutant) != entry["line"]:
            outcome.stale.append(mutant)
        else:
            outcome.equivalent[mutant] = entry["reason"]
    outcome.seconds = time.perf_counter() - began
    return outcome


def report(outcomes: list[Outcome], sample: int | None, seed: int) -> str:
    rows = [
        "| Module | Package | Mutants | Run | Equivalent | Killed | Survived | Score |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    by_package: dict[str, list[Outcome]] = {}
    for o in outcomes:
        by_package.setdefault(o.target.package, []).append(o)
        survived = len(o.counted) - o.killed
        rows.append(
            f"| `{o.target.path.removeprefix('src/')}` | {o.target.package} | {o.total} | {len(o.statuses)} | "
            f"{len(o.equivalent)} | {o.killed} | {survived} | {o.score:.0%} |"
        )
    rows += ["", "| Package | Killed / counted | Score |", "|---|---:|---:|"]
    for package, group in by_package.items():
        killed = sum(o.killed for o in group)
        counted = sum(len(o.counted) for o in group)
        rows.append(f"| {package} | {killed} / {counted} | {killed / counted if counted else 1:.0%} |")
    how = f"a seeded random sample of {sample} mutants per module (seed {seed})" if sample else "every mutant"
    rows += ["", f"Measured on {how}; equivalent mutants excluded (scripts/mutation_equivalents/)."]
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help=f"any of: {', '.join(MODULES)} (default: all)")
    parser.add_argument("--sample", type=int, help="run a seeded random sample of N mutants per module")
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--children", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args(argv)
    unknown = [m for m in args.modules if m not in MODULES]
    if unknown:
        parser.error(f"unknown module(s) {', '.join(unknown)}; choose from {', '.join(MODULES)}")
    WORK.mkdir(exist_ok=True)
    (WORK / ".gitignore").write_text("*\n", encoding="utf-8")
    outcomes, survivors = [], []
    for name in args.modules or list(MODULES):
        print(f"== {name}", flush=True)
        outcome = run_module(name, MODULES[name], args.sample, args.seed, args.children)
        outcomes.append(outcome)
        workdir = WORK / name.replace("/", ".")
        for mutant, status in outcome.counted.items():
            if status not in ("killed", "timeout", "caught by type check", "segfault"):
                survivors.append(f"### {mutant}: {status}\n{mutmut(workdir, 'show', mutant, check=False)}")
        for mutant in outcome.stale:
            print(f"   stale equivalent (its line changed; check it again): {mutant}")
        print(f"   {outcome.killed}/{len(outcome.counted)} killed ({outcome.score:.0%}) in {outcome.seconds:.0f} s")
    text = report(outcomes, args.sample, args.seed)
    (WORK / "report.md").write_text(text + "\n", encoding="utf-8")
    (WORK / "survivors.txt").write_text("\n".join(survivors) + "\n", encoding="utf-8")
    print(text)
    print(f"survivors and their diffs: {WORK / 'survivors.txt'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
