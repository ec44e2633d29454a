"""Golden files: the whole cycle's outputs, cell by cell, against tests/golden/expected/.

The cycle (tests/golden/cycle.py) runs every command through the installed ``cascadebook`` command once
per session: generate, reconcile, status, checkin, reconcile with check-ins, generate --from, reconcile
again, diff, export. Each output's normalised dump (tests/golden/dump.py: which run-to-run values are
rewritten, and why, is the RULES table there) must equal its golden file. The golden files were written
from the code before the package's reorganisation, which means to change no behaviour: a difference is
a change of behaviour, unless it is named in ALLOWED_CHANGES below.
"""

from __future__ import annotations

import fnmatch
import re
from typing import Any, NamedTuple

import pytest

from golden.cycle import EXPECTED, run_cycle
from golden.dump import dump_run, read_expected, roundtrip


class Allowed(NamedTuple):
    """A deliberate difference: every difference it matches is ignored.

    ``files``: glob over the golden file's name ("master*.xlsx.json", "outbox__*.json").
    ``sheet``: glob over the sheet's title; "" for what is on no sheet (JSON, YAML and CSV outputs, the
    transcript, a workbook's document properties and names); "*" for anything.
    ``where``: glob over the cell ("B5"; "B[0-9]*" is column B; "*" any) or, off the cells, the item's
    path ("validations/*", "merged", "custom_properties/*", "data/findings/*/message", "steps/*/stderr").
    ``reason``: why the output changed, for the reader of the diff.
    """

    files: str
    sheet: str
    where: str
    reason: str


# Each deliberate change of the reorganisation is named here with its reason, e.g.
#   Allowed("master*.xlsx.json", "Summary", "B[0-9]*", "the Summary's totals moved to column C (issue 42)"),
# and the test then ignores exactly those differences. While the reorganisation is under way keep the
# golden files as they are (they are the behaviour before it) and name each change here; once the
# change is accepted, `python tests/golden/regen.py` may rewrite them, and its entry stays as the record.
# Empty: the reorganisation changes no output.
ALLOWED_CHANGES: list[Allowed] = []

SHOWN = 20  # differences listed in a failure message
HINT = (
    "if this change is deliberate, run `python tests/golden/regen.py` and name it in ALLOWED_CHANGES "
    "(tests/test_golden.py)"
)
GOLDEN_FILES = sorted(p.name for p in EXPECTED.glob("*.json"))
ABSENT = "<absent>"


@pytest.fixture(scope="module")
def actual(tmp_path_factory) -> dict[str, Any]:
    """The cycle, run once for the module, as normalised dumps read back the way the golden files are."""
    run = run_cycle(tmp_path_factory.mktemp("golden") / "cycle")
    return {name: roundtrip(dump) for name, dump in dump_run(run).items()}


@pytest.fixture(scope="module")
def expected() -> dict[str, Any]:
    return read_expected(EXPECTED)


def test_the_cycle_writes_the_outputs_of_the_golden_files(actual, expected):
    assert GOLDEN_FILES, f"no golden files in {EXPECTED}: run `python tests/golden/regen.py`"
    new = sorted(set(actual) - set(expected))
    gone = sorted(set(expected) - set(actual))
    allowed = [n for n in new + gone if any(fnmatch.fnmatchcase(n, a.files) for a in ALLOWED_CHANGES)]
    new, gone = [n for n in new if n not in allowed], [n for n in gone if n not in allowed]
    assert not new and not gone, (
        f"outputs without a golden file: {new or 'none'}; golden files whose output was not written: "
        f"{gone or 'none'}; {HINT}"
    )


@pytest.mark.parametrize("name", GOLDEN_FILES)
def test_output_matches_its_golden_file(name, actual, expected):
    if name not in actual:
        pytest.fail(f"{name}: the cycle did not write this output; {HINT}", pytrace=False)
    differences = [d for d in compare(expected[name], actual[name]) if not _allowed(name, d)]
    if differences:
        lines = [f"{name}: {len(differences)} difference(s) from tests/golden/expected/{name}:"]
        lines += [f"  {_describe(d)}" for d in differences[:SHOWN]]
        if len(differences) > SHOWN:
            lines.append(f"  ... and {len(differences) - SHOWN} more")
        lines.append(HINT[0].upper() + HINT[1:])
        pytest.fail("\n".join(lines), pytrace=False)


def test_the_normaliser_rewrites_only_what_changes_from_run_to_run(actual):
    """The run's stamps and signatures are rewritten; the cycle's own dates and the fingerprints are not."""
    template = actual["outbox__FY2027_MKT.xlsx.json"]["custom_properties"]
    assert template["cascadebook.generated_at"] == "<run-time>"
    assert template["cascadebook.signature"] == "<signature>"
    assert re.fullmatch(r"[0-9a-f]{16}", template["cascadebook.fingerprint"])
    report = actual["master.json.json"]["data"]
    assert report["generated_at"] == "<run-time>"
    saved = {s["file"]: s["modified"] for s in report["sources"]}
    assert saved["returned/FY2027_SAL.xlsx"] == "2027-01-27T16:30:00+00:00"
    status = actual["cli-transcript.json"]["steps"]["03 status"]["stdout"]
    assert "deadline 2026-01-29, today 2027-02-15" in status and "<" not in status


# ---- comparing two dumps ----------------------------------------------------------------------------------------


class Difference(NamedTuple):
    sheet: str  # "" off the sheets
    where: str  # a cell ("B5") or an item's path
    field: str  # of a cell: v (value), f (formula), cached, fmt; "" otherwise
    expected: Any
    actual: Any


def compare(expected: dict[str, Any], actual: dict[str, Any]) -> list[Difference]:
    """Every leaf that differs (in value or in type: 1 is not 1.0 nor True), in sheet and cell order."""
    old, new = _flatten(expected), _flatten(actual)
    order = {title: i for i, title in enumerate([*expected.get("sheet_order", []), *actual.get("sheet_order", [])])}
    found = []
    for key in sorted(old.keys() | new.keys(), key=lambda k: _order(k, order)):
        a, b = old.get(key, ABSENT), new.get(key, ABSENT)
        if type(a) is not type(b) or a != b:
            found.append(Difference(*key, a, b))
    return found


def _flatten(dump: dict[str, Any]) -> dict[tuple[str, str, str], Any]:
    """(sheet, where, field) -> leaf. A workbook's cells are (title, coordinate, field); the rest of a sheet
    is (title, path, ""); everything else ("", path, ""). Empty containers are leaves, so they are compared."""
    flat: dict[tuple[str, str, str], Any] = {}

    def walk(value: Any, path: list[str]) -> None:
        if isinstance(value, dict) and value:
            for k, v in value.items():
                walk(v, [*path, str(k)])
        elif isinstance(value, list) and value:
            for i, v in enumerate(value):
                walk(v, [*path, str(i)])
        elif dump.get("kind") == "workbook" and len(path) >= 3 and path[0] == "sheets":
            title, rest = path[1], path[2:]
            if rest[0] == "cells" and len(rest) == 3:
                flat[(title, rest[1], rest[2])] = value
            else:
                flat[(title, "/".join(rest), "")] = value
        else:
            flat[("", "/".join(path), "")] = value

    walk(dump, [])
    return flat


_CELL = re.compile(r"([A-Z]+)(\d+)$")


def _order(key: tuple[str, str, str], sheets: dict[str, int]) -> tuple:
    sheet, where, field = key
    cell = _CELL.match(where)
    column = sum((ord(c) - 64) * 26**i for i, c in enumerate(reversed(cell.group(1)))) if cell else 0
    return (sheets.get(sheet, -1), 0 if cell else 1, int(cell.group(2)) if cell else 0, column, where, field)


def _allowed(name: str, difference: Difference) -> bool:
    return any(
        fnmatch.fnmatchcase(name, a.files)
        and fnmatch.fnmatchcase(difference.sheet, a.sheet)
        and fnmatch.fnmatchcase(difference.where, a.where)
        for a in ALLOWED_CHANGES
    )


_FIELDS = {"v": "value", "f": "formula", "cached": "cached value", "fmt": "number format"}


def _describe(d: Difference) -> str:
    if d.field:
        place = f"sheet {d.sheet!r} cell {d.where} {_FIELDS.get(d.field, d.field)}"
    elif d.sheet:
        place = f"sheet {d.sheet!r} {d.where}"
    else:
        place = d.where or "(the whole file)"
    return f"{place}: {_values(d.expected, d.actual)}"


def _values(expected: Any, actual: Any, width: int = 100) -> str:
    """Both values; long or multi-line text cut to the first place where they part."""
    if isinstance(expected, str) and isinstance(actual, str):
        if "\n" in expected or "\n" in actual:
            old, new = expected.splitlines(), actual.splitlines()
            line = next((i for i, (a, b) in enumerate(zip(old, new)) if a != b), min(len(old), len(new)))
            a = old[line] if line < len(old) else ABSENT
            b = new[line] if line < len(new) else ABSENT
            return f"line {line + 1}: expected {_cut(a, b, width)!r}, got {_cut(b, a, width)!r}"
        if max(len(expected), len(actual)) > width:
            return f"expected {_cut(expected, actual, width)!r}, got {_cut(actual, expected, width)!r}"
    return f"expected {expected!r}, got {actual!r}"


def _cut(text: str, other: str, width: int) -> str:
    if len(text) <= width:
        return text
    start = next((i for i, (a, b) in enumerate(zip(text, other)) if a != b), min(len(text), len(other)))
    start = max(0, start - width // 3)
    return ("…" if start else "") + text[start : start + width] + ("…" if start + width < len(text) else "")
