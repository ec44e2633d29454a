"""Normalised dumps of the cycle's outputs, and the one normaliser that makes them the same run after run.

Every output file becomes one JSON-able dump: a workbook cell by cell (value, formula, cached value,
number format) with its sheets' merged ranges, validations, conditional formats, names, panes, filters,
tables and protection, and its custom document properties; a JSON report, a YAML file or a CSV file
as data. ``normalise`` then rewrites what changes from run to run, by the rules below, and nothing else.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable
from datetime import date, datetime, time, timezone
from pathlib import Path
from typing import Any

import openpyxl
import yaml

# ---- the normalisation rules ---------------------------------------------------------------------------------
# (name, what is rewritten, why). ``normalise`` applies exactly these, in this order, to every string of a
# dump (cell values, formulas and cached values, JSON and YAML values, CSV cells, command output), after
# dates were turned into ISO text. Nothing else is rewritten. A rule no output needs any more should be
# deleted, not kept where it could hide a change.
RULES: tuple[tuple[str, str, str], ...] = (
    (
        "temp-path",
        "the run's temporary folder (absolute; as given, resolved or POSIX) -> <tmp>",
        (
            "the cycle runs in a fresh temporary folder; a path a command writes absolutely would differ each run "
            "(today the commands are given relative paths, so this is a safety net)"
        ),
    ),
    (
        "run-time",
        (
            "a date-time (ISO 'YYYY-MM-DDTHH:MM[:SS]' or with a space; with Z, an offset, UTC or no zone) that falls "
            "in the run's wall-clock window -> <run-time>"
        ),
        (
            "generation, check-ins and reconcile stamp 'now': the templates' and check-ins' metadata generated_at "
            "(hidden sheet and document property), the master's Reconciled at and property, the JSON reports' "
            "generated_at. The cycle's own dates (saved-at times, deadlines, --today) are fixed and stay"
        ),
    ),
    (
        "signature",
        "a 32-hex-digit HMAC signature of template or check-in metadata -> <signature>",
        "the signature covers generated_at, so it changes with every generation even under the fixed test key",
    ),
)
PLACEHOLDERS = {"temp-path": "<tmp>", "run-time": "<run-time>", "signature": "<signature>"}

_STAMP = re.compile(
    r"(?<!\d)(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)(Z|[+-]\d{2}:?\d{2}| ?UTC)?(?!\d)"
)
_SIGNATURE = re.compile(r"(?<![0-9a-fA-F])[0-9a-f]{32}(?![0-9a-fA-F])")


class Window:
    """What the rules recognise as this run: its wall-clock window and its temporary folder."""

    SLACK = 120  # seconds either side: stamps are cut to the second and taken just before or after

    def __init__(self, started: datetime, finished: datetime, temp: Path) -> None:
        self.start = started.timestamp() - self.SLACK
        self.end = finished.timestamp() + self.SLACK
        self.temps = sorted({str(temp), str(temp.resolve()), temp.as_posix()}, key=len, reverse=True)

    def holds(self, day: str, clock: str, zone: str | None) -> bool:
        """Whether the stamp ``day``T``clock`` ``zone`` is a moment of the run (no zone: UTC or local)."""
        try:
            moment = datetime.fromisoformat(f"{day}T{clock}")
        except ValueError:
            return False
        zone = (zone or "").strip()
        if zone:
            offset = "+00:00" if zone in ("Z", "UTC") else zone if ":" in zone else f"{zone[:3]}:{zone[3:]}"
            moments = [datetime.fromisoformat(f"{day}T{clock}{offset}")]
        else:
            moments = [moment.replace(tzinfo=timezone.utc), moment]  # naive: the local clock
        return any(self.start <= m.timestamp() <= self.end for m in moments)


def _temp_path(text: str, window: Window) -> str:
    for temp in window.temps:
        text = text.replace(temp, PLACEHOLDERS["temp-path"])
    return text


def _run_time(text: str, window: Window) -> str:
    def stamp(match: re.Match) -> str:
        return PLACEHOLDERS["run-time"] if window.holds(*match.groups()) else match.group(0)

    return _STAMP.sub(stamp, text)


def _signature(text: str, window: Window) -> str:
    return _SIGNATURE.sub(PLACEHOLDERS["signature"], text)


_APPLY: dict[str, Callable[[str, Window], str]] = {
    "temp-path": _temp_path,
    "run-time": _run_time,
    "signature": _signature,
}
assert list(_APPLY) == [name for name, _, _ in RULES], "every rule of the table is implemented, in its order"


def normalise(value: Any, window: Window) -> Any:
    """THE normaliser: apply RULES, in order, to every string in ``value`` (dicts and lists walked, keys kept)."""
    if isinstance(value, dict):
        return {k: normalise(v, window) for k, v in value.items()}
    if isinstance(value, list):
        return [normalise(v, window) for v in value]
    if not isinstance(value, str):
        return value
    for name, _, _ in RULES:
        value = _APPLY[name](value, window)
    return value


# ---- dumps ----------------------------------------------------------------------------------------------------


def plain(value: Any) -> Any:
    """A cell or YAML value as JSON: dates and times as ISO text, everything else as it is."""
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def dump_workbook(path: Path) -> dict[str, Any]:
    """Every sheet cell by cell (formulas and their cached values), its structure, and the custom properties."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # openpyxl drops extensions it does not know; so be it
        book = openpyxl.load_workbook(path, data_only=False)
        cached = openpyxl.load_workbook(path, data_only=True)
    sheets = {}
    for ws in book.worksheets:
        values = cached[ws.title]
        cells = {}
        for row in ws.iter_rows():
            for cell in row:
                if cell.value is None:
                    continue
                entry: dict[str, Any] = {}
                formula = _formula(cell.value)
                if formula is not None:
                    entry["f"] = formula
                    entry["cached"] = plain(values[cell.coordinate].value)
                else:
                    entry["v"] = plain(cell.value)
                if cell.number_format and cell.number_format != "General":
                    entry["fmt"] = cell.number_format
                cells[cell.coordinate] = entry
        sheets[ws.title] = {
            "sheet_state": ws.sheet_state,
            "cells": cells,
            "merged": sorted(str(r) for r in ws.merged_cells.ranges),
            "validations": [
                {"sqref": str(dv.sqref), "type": dv.type, "formula1": dv.formula1}
                for dv in ws.data_validations.dataValidation
            ],
            "conditional_formats": [
                {"sqref": str(cf.sqref), "type": rule.type, "formula": list(rule.formula or [])}
                for cf in ws.conditional_formatting
                for rule in cf.rules
            ],
            "defined_names": {name: dn.attr_text for name, dn in sorted(ws.defined_names.items())},
            "freeze_panes": ws.freeze_panes,
            "auto_filter": ws.auto_filter.ref,
            "tables": dict(sorted(ws.tables.items())),  # name -> ref
            "protected": bool(ws.protection.sheet),
        }
    return {
        "kind": "workbook",
        "sheet_order": [ws.title for ws in book.worksheets],
        "sheets": sheets,
        "defined_names": {name: dn.attr_text for name, dn in sorted(book.defined_names.items())},
        "custom_properties": {p.name: plain(p.value) for p in book.custom_doc_props.props},
    }


def _formula(value: Any) -> str | None:
    if isinstance(value, str) and value.startswith("="):
        return value
    text = getattr(value, "text", None)  # openpyxl's ArrayFormula / DataTableFormula
    return f"{{{text}}}" if isinstance(text, str) else None


def dump_json(path: Path) -> dict[str, Any]:
    return {"kind": "json", "data": json.loads(path.read_text(encoding="utf-8"))}


def dump_yaml(path: Path) -> dict[str, Any]:
    return {"kind": "yaml", "data": plain(yaml.safe_load(path.read_text(encoding="utf-8")))}


def dump_csv(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8", newline="") as handle:
        return {"kind": "csv", "rows": list(csv.reader(handle))}


def dump_text(path: Path) -> dict[str, Any]:
    return {"kind": "text", "lines": path.read_text(encoding="utf-8").splitlines()}


DUMPERS: dict[str, Callable[[Path], dict[str, Any]]] = {
    ".xlsx": dump_workbook,
    ".json": dump_json,
    ".yaml": dump_yaml,
    ".yml": dump_yaml,
    ".csv": dump_csv,
}


def expected_name(relative: str) -> str:
    """The golden file of an output: its path with '/' as '__', plus .json (outbox/FY2027_MKT.xlsx ->
    outbox__FY2027_MKT.xlsx.json)."""
    return relative.replace("/", "__") + ".json"


TRANSCRIPT = "cli-transcript.json"  # every command's arguments, exit status, standard output and error


def dump_run(run) -> dict[str, Any]:
    """Golden file name -> normalised dump, for every output of a ``cycle.CycleRun`` and its transcript."""
    window = Window(run.started, run.finished, run.workdir)
    dumps = {}
    for relative in run.outputs:
        path = run.workdir / relative
        dumper = DUMPERS.get(path.suffix.lower(), dump_text)
        dumps[expected_name(relative)] = normalise({"output": relative, **dumper(path)}, window)
    steps = {f"{i:02d} {step['step']}": step for i, step in enumerate(run.transcript, 1)}  # "03 status"
    dumps[TRANSCRIPT] = normalise({"output": "(command line)", "kind": "transcript", "steps": steps}, window)
    return dumps


def to_text(dump: dict[str, Any]) -> str:
    """The golden file's text: pretty, sorted, stable."""
    return json.dumps(dump, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def write_expected(dumps: dict[str, Any], folder: Path) -> list[Path]:
    """Replace the golden files in ``folder`` with ``dumps`` (stale ones removed)."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.json"):
        if old.name not in dumps:
            old.unlink()
    written = []
    for name, dump in sorted(dumps.items()):
        target = folder / name
        target.write_text(to_text(dump), encoding="utf-8")
        written.append(target)
    return written


def read_expected(folder: Path) -> dict[str, Any]:
    return {p.name: json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))}


def roundtrip(dump: dict[str, Any]) -> dict[str, Any]:
    """The dump as it reads back from its golden file (tuples as lists, keys as text), to compare like with like."""
    return json.loads(to_text(dump))
