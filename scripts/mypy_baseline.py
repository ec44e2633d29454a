"""Run mypy and hold each module to the errors it had: a baseline that only shrinks.

    python scripts/mypy_baseline.py            # fails when a module has more errors than its baseline
    python scripts/mypy_baseline.py --update   # rewrites .mypy-baseline.json after errors were fixed

Why a baseline and not `# type: ignore` or a module left out: the code was typed after it was written,
and the ~150 errors mypy found then are mostly narrowing it cannot follow, not bugs. Silencing them
would hide the next real one in the same module; a count per module lets none be added while they are
fixed a few at a time. The baseline keeps each module's messages (without line numbers, which move
with every edit), so a failure names the errors that are new, and a diff of the file shows which ones
a change fixed.

The rule: a module may have fewer errors than its baseline (you are told to lower it), never more.
``--update`` refuses to raise a module's count unless ``--accept-new`` is given, which is only for
errors that moved with code from one module to another (say so in the commit).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / ".mypy-baseline.json"
# path:line: error: message  [code]   (mypy's plain output, one line per error; notes are left out)
ERROR = re.compile(r"^(?P<path>[^:\n]+\.pyi?):\d+(?::\d+)?: error: (?P<message>.*?)(?:  \[(?P<code>[a-z-]+)\])?$")


def run_mypy() -> dict[str, list[str]]:
    """Module -> its errors as '[code] message', sorted; configured by pyproject.toml's [tool.mypy]."""
    command = [sys.executable, "-m", "mypy", "--no-pretty", "--no-color-output", "--no-error-summary"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode not in (0, 1) or (done.returncode == 1 and not done.stdout.strip()):
        sys.exit(f"mypy did not run (exit {done.returncode}):\n{done.stdout}{done.stderr}")
    errors: dict[str, list[str]] = {}
    for line in done.stdout.splitlines():
        m = ERROR.match(line)
        if m:
            errors.setdefault(_module(m["path"]), []).append(_normalise(m["code"], m["message"]))
    return {module: sorted(found) for module, found in sorted(errors.items())}


def _module(path: str) -> str:
    parts = list(Path(path).with_suffix("").parts)
    if parts and parts[0] == "src":
        parts = parts[1:]
    if parts and parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _normalise(code: str | None, message: str) -> str:
    """The error without what moves when lines are added above it ('defined on line 462')."""
    return f"[{code or 'misc'}] " + re.sub(r"\bline \d+", "line N", message)


def load() -> dict[str, list[str]]:
    if not BASELINE.exists():
        return {}
    return json.loads(BASELINE.read_text(encoding="utf-8"))["modules"]


def save(errors: dict[str, list[str]]) -> None:
    data = {
        "about": "mypy errors per module that are still to fix; only ever lowered (scripts/mypy_baseline.py)",
        "total": sum(len(e) for e in errors.values()),
        "modules": errors,
    }
    BASELINE.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def new_errors(now: list[str], before: list[str]) -> list[str]:
    """The errors of ``now`` that ``before`` does not account for (each message counted)."""
    return sorted((Counter(now) - Counter(before)).elements())


def compare(now: dict[str, list[str]], baseline: dict[str, list[str]]) -> tuple[list[str], list[str]]:
    """(lines for modules over their baseline, lines for modules under it)."""
    over, under = [], []
    for module in sorted(set(now) | set(baseline)):
        n, b = len(now.get(module, [])), len(baseline.get(module, []))
        if n > b:
            fresh = new_errors(now.get(module, []), baseline.get(module, [])) or now[module]
            over.append(f"{module}: {n} errors, baseline {b}; new:")
            over.extend(f"    {e}" for e in fresh)
        elif n < b:
            under.append(f"{module}: {n} errors, baseline {b}")
    return over, under


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--update", action="store_true", help="rewrite .mypy-baseline.json with today's errors")
    parser.add_argument(
        "--accept-new", action="store_true", help="with --update: let a module's count rise (errors moved with code)"
    )
    args = parser.parse_args(argv)
    now, baseline = run_mypy(), load()
    over, under = compare(now, baseline)
    total = sum(len(e) for e in now.values())
    if args.update:
        if over and BASELINE.exists() and not args.accept_new:
            print("\n".join(over))
            print("mypy baseline: not raised; fix these, or pass --accept-new if they only moved between modules")
            return 1
        save(now)
        print(f"mypy baseline: {BASELINE.name} written, {total} errors in {len(now)} modules")
        return 0
    if over:
        print("\n".join(over))
        print(f"mypy baseline: more errors than .mypy-baseline.json allows ({total} in all); fix the new ones")
        return 1
    if under:
        print("\n".join(under))
        print("mypy baseline: fewer errors than the baseline; lower it: python scripts/mypy_baseline.py --update")
    print(f"mypy baseline: {total} errors, none new (baseline {sum(len(e) for e in baseline.values())})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
