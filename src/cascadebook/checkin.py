"""Quarterly check-ins: one workbook per department and period, and reading them back.

A check-in workbook is written from the master (the department's initiatives and KPIs, with ids,
titles, baselines and targets locked) and laid out by the check-in spec
(``workbook_templates/checkin.yaml``), so ``returns.read_return(path, checkin_spec())`` reads it
like any template. It carries the planning templates' signed metadata with ``kind: checkin`` and
the period, so ``reconcile`` recognises it whatever its file name, and turns it into progress.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Sequence

from cascadebook.atomic import all_or_nothing, atomic_path, check_folder, check_writable
from cascadebook.cells import row_ranges
from cascadebook.findings import Finding, Severity
from cascadebook.kinds import CHECKIN
from cascadebook.master_read import MasterData
from cascadebook.model import Department, Record, Strategy
from cascadebook.progress import Actual, Item, ProgressReport, Thresholds, compute_progress, is_number
from cascadebook.returns import Return, read_return
from cascadebook.signing import sign
from cascadebook.spec import Column, SheetSpec, Spec, find_spec, load_spec
from cascadebook.templates import (
    HEADER_FILL,
    HEADER_ROW,
    INPUT_FILL,
    META_PROPERTY_PREFIX,
    META_SHEET,
    NUMBER_FORMATS,
    PREFILLED_FILL,
    PROTECT_OPTIONS,
    make_metadata,
)
from cascadebook.values import display, parse_value
from cascadebook.xlsx import Workbook as SafeWorkbook, write_value

CHECKIN_KIND = CHECKIN  # kinds.py: a return, like a plan
HISTORY_SHEET = "Earlier check-ins"
PERCENT_FORMAT = "0.0%"


@lru_cache(maxsize=1)
def checkin_spec() -> Spec:
    """The bundled check-in spec."""
    return load_spec("checkin")


def checkin_filename(cycle: str, department_code: str, period: str) -> str:
    return f"{cycle}_{department_code}_{period}_checkin.xlsx"


def is_checkin(ret: Return) -> bool:
    return ret.metadata is not None and ret.metadata.kind == CHECKIN_KIND


def read_any(path: str | Path, spec: Spec, file: str | None = None, specs: Sequence[Spec] = ()) -> Return:
    """Read a returned workbook with the spec its metadata asks for: check-ins with the check-in spec,
    plans with the spec of the name and version they were signed with (``spec`` when it is that one,
    else the first of ``specs`` that is).

    The kind and spec come from the document properties the reader parses anyway (one open per file);
    a workbook whose properties were lost is read once more when its hidden metadata turns out to ask
    for another spec. A plan whose spec is nowhere to be found is read with ``spec`` (so its rows can
    be named) and ``spec_problem`` says why it cannot be taken.
    """
    chosen: list[Spec] = []

    def pick(kind: str | None, name: str | None, version: str | None, fingerprint: str | None) -> Spec | None:
        if kind == CHECKIN_KIND:
            return checkin_spec()
        return find_spec(str(name or ""), str(version or ""), spec, specs, str(fingerprint or ""))

    def spec_for(props) -> Spec:
        chosen.append(
            pick(
                props.get("meta:kind"),
                props.get("meta:spec_name"),
                props.get("meta:spec_version"),
                props.get("meta:spec_fingerprint"),
            )
            or spec
        )
        return chosen[-1]

    ret = read_return(path, spec, file, spec_for=spec_for)
    if ret.metadata is not None:
        meta = ret.metadata
        wanted = chosen[-1] if chosen else spec
        right = pick(meta.kind, meta.spec_name, meta.spec_version, meta.spec_fingerprint)
        if right is not None and right is not wanted:
            ret = read_return(path, right, file)
        elif right is None and wanted is not spec:
            ret = read_return(path, spec, file)
        if right is None and ret.metadata is not None:
            ret.spec_problem = (
                f"the workbook was made with the template spec {meta.spec_name}@{meta.spec_version}, "
                f"but this run uses {spec.name}@{spec.version} and no spec "
                f"{meta.spec_name}@{meta.spec_version} was found (beside the strategy, in a subfolder of it, or bundled); "
                f"put that spec's YAML file beside the strategy, or pass it with --spec"
            )
        elif right is not None and ret.metadata is not None and not is_checkin(ret):
            spec_changed(ret, right, spec)
    if is_checkin(ret):  # the check-in's own read-only history is not an extra sheet
        ret.findings = [f for f in ret.findings if not (f.code == "extra-sheet" and f.sheet == HISTORY_SHEET)]
    return ret


def spec_of(ret: Return, spec: Spec, specs: Sequence[Spec] = ()) -> Spec:
    """The spec a plan return was read with by :func:`read_any` (``spec`` when its own is not found)."""
    meta = ret.metadata
    if meta is None:
        return spec
    return find_spec(meta.spec_name, meta.spec_version, spec, specs, meta.spec_fingerprint) or spec


def spec_changed(ret: Return, used: Spec, in_use: Spec) -> None:
    """A plan signed with a spec fingerprint (format 2) other than that of ``used``, the spec of its name
    and version it was read with (``in_use`` or a candidate): that spec was edited after the template was
    generated, without a new ``version:``, and no copy of the spec as it was was found. Its rows were
    read with ``used``; each column (or sheet) of the workbook with values that ``used`` has not (renamed
    or removed from the spec) is a ``spec-changed`` warning in place of the ``extra-column`` (or
    ``extra-sheet``) note, so its values are not dropped with only a note; when there is none, one
    ``spec-changed`` warning for the file says the spec changed."""
    meta = ret.metadata
    if meta is None or not meta.spec_fingerprint or meta.spec_fingerprint == used.fingerprint():
        return
    read_with = "the spec in use" if used is in_use else f"the spec {used.label} it was read with"
    why = (
        f"the template was made from another edit of the spec {used.label} than {used.origin}, which was "
        f"changed after the template was sent without a new version number, and no copy of the spec as it "
        f"was is beside the strategy, in a subfolder of it, or bundled"
    )
    changed = 0
    for i, f in enumerate(ret.findings):
        # a column (or sheet) the template had; a column without a header was added by hand
        if f.code == "extra-sheet" or (f.code == "extra-column" and "(no header)" not in f.message):
            message = f.message.replace(" is not part of the template;", f" is not in {read_with};", 1)
            ret.findings[i] = replace(f, code="spec-changed", message=f"{message}: {why}")
            changed += 1
    if not changed:
        missing = [
            f"{f.sheet}: {f.message}" for f in ret.findings if f.code in ("missing-column", "optional-column-missing")
        ]
        ret.findings.append(
            Finding(
                "spec-changed",
                f"{why}; its rows were read with {read_with}" + (f" ({'; '.join(missing)})" if missing else ""),
                file=ret.file,
                department=ret.department,
            )
        )


def columns_outside(ret: Return, own: Spec, in_use: Spec) -> list[Finding]:
    """A return read with its own spec: its values in columns (or sheets) the spec in use has not,
    which the master, laid out by the spec in use, cannot show."""
    findings: list[Finding] = []
    own_label, in_use_label = own.label, in_use.label
    if own_label == in_use_label:  # an earlier edit of the same name and version: say which files
        own_label += f" of {own.origin}"
        in_use_label += f" of {in_use.origin}"

    def not_in_master(sheet: SheetSpec, what: str, numbers: tuple[int, ...], counted: str) -> None:
        findings.append(
            Finding(
                "spec-column-not-in-master",
                f"the {what} of the template spec {own_label} is not in the spec in "
                f"use ({in_use_label}); its {len(numbers)} {counted}{row_ranges(numbers)}) are not in the master",
                file=ret.file,
                sheet=ret.sheet_names.get(sheet.key, sheet.title),
                cell=f"A{numbers[0]}",
                department=ret.department,
                rows=numbers,
            )
        )

    for sheet in own.sheets:
        rows = ret.records.get(sheet.key) or []
        other = next((s for s in in_use.sheets if s.key == sheet.key), None)
        for col in sheet.columns if other is not None else ():
            if other.has(col.key):
                continue
            numbers = tuple(r.row for r in rows if r.values.get(col.key) not in (None, ""))
            if numbers:
                not_in_master(sheet, f"column {col.header!r}", numbers, "value(s) (rows ")
        if other is None and rows:
            not_in_master(sheet, f"sheet {sheet.title!r}", tuple(r.row for r in rows), "row(s) (")
    return findings


# ---------------------------------------------------------------------------------------------- writing


class _Formats:
    def __init__(self, book):
        add = book.add_format
        self.book = book
        self.title = add({"bold": True, "font_size": 14, "font_color": HEADER_FILL})
        self.intro = add({"italic": True, "font_color": "#404040", "text_wrap": True, "valign": "top"})
        self.header = add(
            {
                "bold": True,
                "font_color": "#FFFFFF",
                "bg_color": HEADER_FILL,
                "text_wrap": True,
                "valign": "vcenter",
                "border": 1,
            }
        )
        self.label = add({"bold": True})
        self.wrap = add({"text_wrap": True, "valign": "top"})
        self.plain = add({})
        self.date = add({"num_format": NUMBER_FORMATS["date"], "align": "left"})
        self.legend_input = add({"bg_color": INPUT_FILL, "border": 1, "border_color": "#BFBFBF"})
        self.legend_locked = add({"bg_color": PREFILLED_FILL, "border": 1, "border_color": "#BFBFBF"})
        self._cache: dict[tuple, Any] = {}

    def cell(self, column_type: str, *, locked: bool, percent: bool = False):
        key = (column_type, locked, percent)
        if key not in self._cache:
            props: dict[str, Any] = {
                "border": 1,
                "border_color": "#BFBFBF",
                "valign": "top",
                "bg_color": PREFILLED_FILL if locked else INPUT_FILL,
            }
            if not locked:
                props["locked"] = False
            if percent:
                props["num_format"] = PERCENT_FORMAT
            elif column_type in NUMBER_FORMATS and column_type != "number":
                props["num_format"] = NUMBER_FORMATS[column_type]
            if column_type == "text":
                props["text_wrap"] = True
            self._cache[key] = self.book.add_format(props)
        return self._cache[key]


def _percent_row(record: Record) -> bool:
    return Item(
        "",
        "",
        "",
        baseline=_num(record.values.get("baseline")),
        target=_num(record.values.get("target")),
        unit=str(record.values.get("unit") or ""),
    ).is_percent


def _num(value: Any) -> float | None:
    return float(value) if is_number(value) else None


def _earlier(strategy: Strategy, period: str) -> list[str]:
    periods = list(strategy.periods)
    return periods[: periods.index(period)] if period in periods else []


def write_checkin(
    strategy: Strategy,
    department: Department,
    period: str,
    path: str | Path,
    *,
    master: MasterData,
    spec: Spec | None = None,
    key: bytes | None = None,
    generated_at: str | None = None,
) -> Path:
    """Write one department's check-in workbook for ``period`` atomically; returns its path."""

    spec = spec or checkin_spec()
    if period not in strategy.periods:
        raise ValueError(f"{period!r} is not a period of {strategy.cycle} ({', '.join(strategy.periods)})")
    generated_at = generated_at or datetime.now(timezone.utc).replace(microsecond=0).isoformat()
    meta = replace(make_metadata(strategy, department, spec, generated_at, None, kind=CHECKIN_KIND), period=period)
    if key is not None:
        meta = replace(meta, signature=sign(meta, key))
    mine = master.for_department(department.code)
    earlier = _earlier(strategy, period)
    path = Path(path)
    with atomic_path(path) as tmp:
        book = SafeWorkbook(str(tmp), {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
        fmt = _Formats(book)
        book.set_properties(
            {
                "title": f"{strategy.cycle} {period} check-in - {department.name}",
                "company": strategy.company,
                "comments": "Generated by cascadebook. Fill in the shaded cells and send the workbook back.",
                "created": datetime(2000, 1, 1),
            }
        )
        for name, value in meta.as_pairs():
            book.set_custom_property(META_PROPERTY_PREFIX + name, value)
        _instructions(book, fmt, strategy, department, period, spec, earlier)
        for sheet in spec.sheets:
            _checkin_sheet(book, fmt, strategy, department, period, sheet, mine.get(sheet.key, []), master, earlier)
        _history_sheet(book, fmt, department, spec, mine, master, earlier)
        _metadata_sheet(book, meta)
        book.close()
    return path


def _instructions(
    book, fmt: _Formats, strategy: Strategy, department: Department, period: str, spec: Spec, earlier: list[str]
) -> None:
    ws = book.add_worksheet("Instructions")
    ws.set_column(0, 0, 24)
    ws.set_column(1, 1, 90)
    ws.hide_gridlines(2)
    ws.write_string(0, 0, f"{strategy.cycle} {period} check-in — {department.name} ({department.code})", fmt.title)
    contact = " ".join(p for p in (strategy.contact_name, f"<{strategy.contact_email}>") if p.strip("<>"))
    rows = [
        ("Company", strategy.company),
        ("Department head", department.head),
        ("Period", period),
        ("Questions to", contact),
        ("Vision", strategy.vision),
    ]
    r = 2
    for label, value in rows:
        ws.write_string(r, 0, label, fmt.label)
        ws.write_string(r, 1, str(value or ""), fmt.wrap)
        r += 1
    r += 1
    ws.write_string(r, 0, "What to do", fmt.label)
    steps = [f"{i}. {sheet.title}: {sheet.intro}" for i, sheet in enumerate(spec.sheets, 1)]
    if earlier:
        steps.append(
            f"{len(steps) + 1}. The {HISTORY_SHEET} sheet shows what you reported for "
            f"{', '.join(earlier)}; 'Last actual' is the most recent of them."
        )
    steps.append(
        f"{len(steps) + 1}. Save the workbook (keep the .xlsx format) and send it back. Renaming the file "
        "is fine: the workbook identifies itself."
    )
    for step in steps:
        ws.write_string(r, 1, step, fmt.wrap)
        ws.set_row(r, 15 * (len(step) // 95 + 1))
        r += 1
    r += 1
    ws.write_string(r, 0, "How progress is counted", fmt.label)
    ws.write_string(
        r,
        1,
        "Progress is the share of the way from the baseline to the target that the actual has "
        "covered (0% at the baseline, 100% at the target). Percentages can be typed as 18% or 0.18.",
        fmt.wrap,
    )
    ws.set_row(r, 30)
    r += 2
    ws.write_string(r, 0, "Colour legend", fmt.label)
    ws.write_string(r, 1, "Shaded cells are yours to fill in.", fmt.legend_input)
    ws.write_string(r + 1, 1, "Grey cells are the plan, from the master: keep them.", fmt.legend_locked)
    _print_setup(ws)
    ws.protect("", PROTECT_OPTIONS)
    ws.activate()


def _validation(col: Column) -> dict | None:
    message = {"input_title": col.header[:32], "input_message": col.help[:255]} if col.help else {}
    if col.type == "choice":
        return {"validate": "list", "source": list(col.choices), **message}
    if col.type in ("number", "percent", "currency", "integer"):
        return {
            "validate": "decimal",
            "criteria": "between",
            "minimum": -1e15,
            "maximum": 1e15,
            "error_type": "warning",
            "error_title": "Number expected",
            "error_message": f"{col.header} should be a number.",
            **message,
        }
    return {"validate": "any", **message} if message else None


def _checkin_sheet(
    book,
    fmt: _Formats,
    strategy: Strategy,
    department: Department,
    period: str,
    sheet: SheetSpec,
    records: Sequence[Record],
    master: MasterData,
    earlier: list[str],
) -> None:
    ws = book.add_worksheet(sheet.title)
    header_idx = HEADER_ROW - 1
    ws.write_string(
        0, 0, f"{sheet.title} — {department.name} ({department.code}), {strategy.cycle} {period} check-in", fmt.title
    )
    ws.merge_range(1, 0, 1, min(len(sheet.columns) - 1, 8), sheet.intro, fmt.intro)
    ws.set_row(1, 32)
    ws.set_row(header_idx, 30)
    for c, col in enumerate(sheet.columns):
        ws.write_string(header_idx, c, col.header + (" *" if col.required else ""), fmt.header)
        ws.set_column(c, c, col.width)
    first = header_idx + 1
    last = first + max(len(records), 1) - 1
    for c, col in enumerate(sheet.columns):
        validation = _validation(col) if col.is_input else None
        if validation and records:
            ws.data_validation(first, c, last, c, validation)
    for r, record in enumerate(records, first):
        percent = _percent_row(record)
        history = master.history(sheet.key, record.department, record.id)
        previous = next(
            (history[p].actual for p in reversed(earlier) if p in history and history[p].actual is not None), None
        )
        for c, col in enumerate(sheet.columns):
            numeric = col.key in ("baseline", "target", "previous_actual", "actual")
            cell = fmt.cell(col.type, locked=col.prefilled, percent=percent and numeric)
            if col.key == "previous_actual":
                value = previous
            elif col.prefilled:
                value = record.values.get(col.key)
            else:
                value = None
            write_value(ws, r, c, value, cell)
    ws.freeze_panes(HEADER_ROW, 1)
    if records:
        ws.autofilter(header_idx, 0, last, len(sheet.columns) - 1)
    _print_setup(ws, repeat=header_idx)
    ws.protect("", PROTECT_OPTIONS)


def _print_setup(ws, repeat: int | None = None) -> None:
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)
    if repeat is not None:
        ws.repeat_rows(repeat)


def _history_sheet(
    book,
    fmt: _Formats,
    department: Department,
    spec: Spec,
    mine: dict[str, list[Record]],
    master: MasterData,
    earlier: list[str],
) -> None:
    """Earlier periods' actuals, status and comments, read-only."""
    shown = [p for p in earlier if p in master.periods()]
    if not shown:
        return
    ws = book.add_worksheet(HISTORY_SHEET)
    headers = ["Sheet", "ID", "Title"]
    for p in shown:
        headers += [f"{p} actual", f"{p} status", f"{p} comment"]
    widths = [12, 12, 40] + [10, 11, 30] * len(shown)
    for c, (h, width) in enumerate(zip(headers, widths)):
        ws.write_string(0, c, h, fmt.header)
        ws.set_column(c, c, width)
    r = 1
    for sheet in spec.sheets:
        for record in mine.get(sheet.key, []):
            history = master.history(sheet.key, record.department, record.id)
            percent = _percent_row(record)
            row: list[tuple[Any, Any]] = [
                (sheet.title, None),
                (record.id, None),
                (record.values.get("title") or record.values.get("name"), fmt.wrap),
            ]
            for p in shown:
                got = history.get(p)
                values = got.values if got else {}
                row += [
                    (values.get("actual"), fmt.cell("number", locked=True, percent=percent)),
                    (values.get("status"), None),
                    (values.get("comment"), fmt.wrap),
                ]
            for c, (value, cell) in enumerate(row):
                write_value(ws, r, c, value, cell)
            r += 1
    ws.freeze_panes(1, 2)
    _print_setup(ws, repeat=0)
    ws.protect("", PROTECT_OPTIONS)


def _metadata_sheet(book, meta) -> None:
    ws = book.add_worksheet(META_SHEET)
    for r, (name, value) in enumerate(meta.as_pairs()):
        ws.write_string(r, 0, name)
        ws.write_string(r, 1, value)
    ws.protect("", {"select_locked_cells": False, "select_unlocked_cells": False})
    ws.very_hidden()


def generate_checkins(
    strategy: Strategy,
    master: MasterData,
    outbox: str | Path,
    period: str,
    *,
    departments: Iterable[str] | None = None,
    key: bytes | None = None,
    spec: Spec | None = None,
    generated_at: str | None = None,
) -> list[Path]:
    """One check-in workbook per department that has initiatives or KPIs in the master."""
    if period not in strategy.periods:
        raise ValueError(f"{period!r} is not a period of {strategy.cycle} ({', '.join(strategy.periods)})")
    wanted = {c.casefold() for c in departments} if departments else None
    if wanted is not None:
        unknown = wanted - {d.code.casefold() for d in strategy.departments}
        if unknown:
            raise KeyError(f"unknown department code(s): {', '.join(sorted(unknown))}")
    with_plan = {c.casefold() for c in master.departments()}
    stamp = generated_at or datetime.now(timezone.utc).replace(microsecond=0).isoformat()
    outbox = Path(outbox)
    chosen = [
        d
        for d in sorted(strategy.departments, key=lambda d: d.code)
        if d.code.casefold() in with_plan and (wanted is None or d.code.casefold() in wanted)
    ]
    targets = [outbox / checkin_filename(strategy.cycle, d.code, period) for d in chosen]
    check_folder(outbox)
    check_writable(targets)
    with all_or_nothing():  # all the check-ins appear together, or none (atomic.OutputError)
        return [
            write_checkin(strategy, d, period, target, master=master, spec=spec, key=key, generated_at=stamp)
            for d, target in zip(chosen, targets)
        ]


# ---------------------------------------------------------------------------------------------- reconciling


def _finding(code: str, message: str, record: Record, key: str) -> Finding:
    return Finding(
        code,
        message,
        file=record.file,
        sheet=record.sheet_name,
        cell=record.cells.get(key, f"A{record.row}"),
        department=record.department,
    )


def _direction(strategy: Strategy, objective_ids: Iterable[str]) -> str:
    for oid in objective_ids:
        objective = strategy.objective(oid)
        if objective is not None:
            return objective.direction
    return "increase"


def plan_items(result: Any) -> dict[tuple[str, str, str], Item]:
    """The reconciled plan (initiatives and KPIs) as progress items, keyed like ``Item.key``."""
    strategy = result.strategy
    split: dict[tuple[str, str], list[tuple[str, float]]] = {}
    allocations = getattr(result, "allocations", None)
    if allocations:
        for a in allocations:
            split.setdefault((a.department, a.initiative_id.casefold()), []).append((a.objective_id, a.weight))
    items: dict[tuple[str, str, str], Item] = {}
    for record in result.records.get("initiatives", []):
        objectives = split.get((record.department, record.id.casefold()))
        if objectives is None and allocations is None:
            objective = strategy.objective(str(record.values.get("objective_id") or ""))
            objectives = [(objective.id, 1.0)] if objective else []
        item = Item(
            "initiatives",
            record.department,
            record.id,
            str(record.values.get("title") or ""),
            _num(record.values.get("baseline")),
            _num(record.values.get("target")),
            str(record.values.get("unit") or ""),
            _period(record.values.get("due_period")),
            _num(record.values.get("contribution_weight")),
            tuple(objectives or ()),
            direction=_direction(strategy, [o for o, _ in objectives or ()]),
        )
        items.setdefault(item.key, item)
    for record in result.records.get("kpis", []):
        parent = str(record.values.get("initiative_id") or "")
        owner = items.get(("initiatives", record.department, parent.casefold()))
        item = Item(
            "kpis",
            record.department,
            record.id,
            str(record.values.get("name") or ""),
            _num(record.values.get("baseline")),
            _num(record.values.get("target")),
            str(record.values.get("unit") or ""),
            _period(record.values.get("due_period")),
            parent=parent,
            direction=owner.direction if owner else "increase",
        )
        items.setdefault(item.key, item)
    return items


def _period(value: Any) -> str | None:
    return str(value) if isinstance(value, str) and value else None


def _item_from_checkin(strategy: Strategy, record: Record, sheet: SheetSpec) -> Item:
    """A check-in row whose item is not in the reconciled plan: use the plan columns it carries."""

    def parsed(key: str, kind: str) -> Any:
        if not sheet.has(key):
            return None
        p = parse_value(record.values.get(key), kind)
        return p.value if p.ok else None

    objective = strategy.objective(str(parsed("objective_id", "text") or ""))
    objectives = ((objective.id, 1.0),) if objective else ()
    return Item(
        sheet.key,
        record.department,
        record.id,
        str(parsed("title", "text") or parsed("name", "text") or ""),
        parsed("baseline", "number"),
        parsed("target", "number"),
        str(parsed("unit", "text") or ""),
        parsed("due_period", "text"),
        parsed("contribution_weight", "percent"),
        objectives,
        parent=str(parsed("initiative_id", "text") or ""),
        direction=objective.direction if objective else "increase",
    )


def _read_row(
    strategy: Strategy, sheet: SheetSpec, record: Record, item: Item, period: str, findings: list[Finding]
) -> Actual:
    values: dict[str, Any] = {}
    value: float | None = None
    for col in sheet.input_columns:
        raw = record.values.get(col.key)
        kind = "percent" if col.key == "actual" and item.is_percent else col.type
        parsed = parse_value(
            raw, kind, choices=col.choices or None, periods=strategy.periods, cycle_year=strategy.cycle_year
        )
        if parsed.blank:
            values[col.key] = None
            continue
        if parsed.error:
            values[col.key] = raw if isinstance(raw, (str, int, float)) else display(raw)  # as typed
            code = "actual-wrong-type" if col.key == "actual" else "wrong-type"
            findings.append(
                _finding(
                    code, f"{item.id}: {col.header} should be {parsed.error}, found {display(raw)}", record, col.key
                )
            )
            continue
        if parsed.note:
            findings.append(_finding("value-interpreted", f"{col.header}: {parsed.note}", record, col.key))
        values[col.key] = parsed.value
        if col.key == "actual":
            value = float(parsed.value)
    previous = None
    if sheet.has("previous_actual"):
        p = parse_value(record.values.get("previous_actual"), "number")
        previous = float(p.value) if p.ok else None
    return Actual(
        sheet.key,
        record.department,
        item.id,
        period,
        value,
        values,
        previous,
        record.file,
        record.sheet_name,
        record.row,
        record.cells.get("actual", f"A{record.row}"),
    )


def reconcile_checkins(result: Any, sources: Sequence[Return]) -> tuple[ProgressReport, list[Finding]]:
    """Turn the identified check-in returns into progress; returns the report and the new findings.

    Newest wins per department and period (the others are superseded, as for plans). ``result``
    is the plan's Reconciliation (strategy, records, allocations, sources).
    """
    from cascadebook.reconcile import _not_taken, _rows_not_taken

    strategy: Strategy = result.strategy
    spec = checkin_spec()
    findings: list[Finding] = []

    def not_used(ret: Return, status: str, reason: str, finding: Finding) -> None:
        """Like a plan's: a check-in not used raises nothing live, only why and where its rows are."""
        ret.status, ret.reason = status, reason
        ret.findings = [f for f in ret.findings if f.severity is Severity.INFO] + [finding, *_rows_not_taken(ret)]

    for ret in sources:  # rejected on identity: why, and which rows were not taken
        if ret.status == "rejected":
            ret.findings = _not_taken(ret)
    newest: dict[tuple[str, str], Return] = {}
    accepted = [r for r in sources if r.status == "accepted"]
    for ret in sorted(accepted, key=lambda r: (getattr(r, "received", "") or r.modified, r.file), reverse=True):
        period = ret.metadata.period
        if period not in strategy.periods:
            not_used(
                ret,
                "rejected",
                f"check-in for {period!r}, not a period of {strategy.cycle}",
                Finding(
                    "period-outside-cycle",
                    f"the check-in is for {period!r}, not one of {', '.join(strategy.periods)}",
                    file=ret.file,
                    department=ret.department,
                ),
            )
            continue
        kept = newest.get((ret.department, period))
        if kept is not None:
            not_used(
                ret,
                "superseded",
                f"superseded by {kept.file}",
                Finding(
                    "superseded-submission",
                    f"{kept.file} is a newer {period} check-in from {ret.department}",
                    file=ret.file,
                    department=ret.department,
                ),
            )
            continue
        newest[(ret.department, period)] = ret
        ret.reason = f"{period} check-in"
    for ret in sources:  # what reading and identifying found; for a check-in not used, why and where its rows are
        findings.extend(ret.findings)

    order = {p: i for i, p in enumerate(strategy.periods)}
    periods = tuple(sorted({p for _, p in newest}, key=order.__getitem__))
    items = plan_items(result)
    actuals: list[Actual] = []
    for (department, period), ret in sorted(newest.items(), key=lambda kv: (order[kv[0][1]], kv[0][0])):
        seen: set[tuple[str, str, str]] = set()
        for sheet in spec.sheets:
            for record in ret.records.get(sheet.key, []):
                if not record.id:  # typed below the listed items: no item to report on, said, not dropped
                    findings.append(
                        Finding(
                            "checkin-row-not-taken",
                            f"row {record.row} has no id of a listed {sheet.title} item, so "
                            f"its {period} values are not in the progress",
                            file=record.file,
                            sheet=record.sheet_name,
                            cell=f"A{record.row}",
                            department=department,
                            rows=(record.row,),
                        )
                    )
                    continue
                key = (sheet.key, department, record.id.casefold())
                if key in seen:
                    findings.append(
                        Finding(
                            "checkin-row-not-taken",
                            f"row {record.row} repeats {record.id}; only its first row is read for {period}",
                            file=record.file,
                            sheet=record.sheet_name,
                            cell=f"A{record.row}",
                            department=department,
                            rows=(record.row,),
                        )
                    )
                    continue
                seen.add(key)
                item = items.get(key)
                if item is None:
                    item = items[key] = _item_from_checkin(strategy, record, sheet)
                actual = _read_row(strategy, sheet, record, item, period, findings)
                actuals.append(actual)
                if actual.value is None and actual.values.get("actual") is None:
                    findings.append(_finding("actual-missing", f"{item.id}: no actual for {period}", record, "actual"))
        titles = {s.key: s.title for s in spec.sheets}
        for key, item in items.items():
            if item.department == department and key not in seen:
                findings.append(
                    Finding(
                        "actual-missing",
                        f"{item.id}: no actual for {period} (the row is blank or missing)",
                        file=ret.file,
                        sheet=titles.get(item.sheet, item.sheet),
                        department=department,
                    )
                )

    # Backwards moves without a comment, against the last earlier actual (else the workbook's "last actual").
    last: dict[tuple[str, str, str], float] = {}
    by_row = {(a.key, a.period): a for a in actuals}
    for actual in sorted(actuals, key=lambda a: order[a.period]):
        item = items[actual.key]
        before = last.get(actual.key, actual.previous)
        if actual.value is not None:
            sign_ = (item.target or 0) - (item.baseline or 0) if is_number(item.target) else 0
            if before is not None and sign_ and (actual.value - before) * sign_ < 0 and not actual.comment:
                findings.append(
                    Finding(
                        "actual-backwards",
                        f"{item.id}: {actual.value:g} for {actual.period} moved back from {before:g} "
                        f"(the target is {item.target:g}) and there is no comment",
                        file=actual.file,
                        sheet=actual.sheet_name,
                        cell=actual.cell,
                        department=actual.department,
                    )
                )
            last[actual.key] = actual.value

    report = compute_progress(strategy, list(items.values()), actuals, periods, Thresholds.of(strategy))
    for (key, period), actual in by_row.items():
        own = report.items.get(key, {}).get(period)
        if actual.value is not None and own is not None and own.capped and not own.carried:
            beyond = own.raw > 1
            findings.append(
                Finding(
                    "progress-capped",
                    f"{own.item.id}: the {period} actual {actual.value:g} is "
                    f"{'beyond the target' if beyond else 'behind the baseline'} "
                    f"({own.raw:.0%} of the way; counted as {own.progress:.0%})",
                    file=actual.file,
                    sheet=actual.sheet_name,
                    cell=actual.cell,
                    department=actual.department,
                )
            )

    # Departments with a plan that sent no check-in for a period others reported on.
    expected = {i.department for i in items.values()}
    for period in periods:
        for department in sorted(expected):
            if (department, period) not in newest:
                d = strategy.department(department)
                who = f"{d.name} ({d.code}); head: {d.head} <{d.email}>" if d else department
                findings.append(
                    Finding(
                        "checkin-missing",
                        f"no {period} check-in from {who}; its last reported actuals are used",
                        department=department,
                    )
                )
    return report, findings
