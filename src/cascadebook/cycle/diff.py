"""Cycle over cycle: what changed between two master workbooks.

Initiatives and KPIs are matched by id (``generate --from MASTER`` keeps the ids, so a plan that
was edited rather than retyped diffs cleanly). A matched item is *retargeted* when its baseline,
target, unit or due period changed, *re-owned* when its owner, team or department changed, and
*re-aligned* when it moved to another objective (or a KPI to another initiative). Objectives whose
set of contributing departments changed are listed with both sets. Finance's decisions (the masters'
review columns and their orphans sheets) are compared per initiative too: a *decision* change when
the decision, an approved amount or the comment differs, or the initiative is decided in one only.

Given the (new cycle's) strategy and its units reporting to units (issue 20's org tree), each change
carries its unit's level, and a unit aligned to its parent's plan that points an initiative at other
parent initiatives (its objective column, or split, holds parent initiative ids) is *re-parented*, not
re-aligned; such units' rows are left out of the objectives' coverage (what they name are not
objectives). Without a strategy, or with a flat one, the diff is as it always was. The masters do not
say which unit reported to which, so a unit moved to another parent between cycles is not reported.
"""

from __future__ import annotations

import dataclasses
import io
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from cascadebook.atomic import write_bytes_atomic
from cascadebook.kinds import (
    DIFF,
    DIFF_CHANGES_COLUMNS,
    DIFF_CHANGES_SHEET,
    DIFF_COVERAGE_SHEET,
    DIFF_LEVEL_COLUMN,
    stamp,
)
from cascadebook.master.decisions_read import read_decisions
from cascadebook.master.read import MasterData
from cascadebook.model import Decision, Record, Strategy
from cascadebook.org import OrgTree
from cascadebook.spec.roles import (
    APPROVED_BUDGET,
    APPROVED_HEADCOUNT,
    BASELINE,
    DECISION,
    DUE_PERIOD,
    INITIATIVE_REF,
    INITIATIVES,
    OBJECTIVE_REF,
    OBJECTIVE_SPLIT,
    OWNER,
    REVIEW_COMMENT,
    TARGET,
    TEAM,
    TITLE,
    UNIT,
)
from cascadebook.spec.schema import Column, SheetSpec, Spec, load_spec
from cascadebook.spec.values import parse_value
from cascadebook.xlsx import writer as xlsx_writer
from cascadebook.xlsx.writer import continued_sheet

ADDED, REMOVED, RETARGETED, REOWNED, REALIGNED = "added", "removed", "retargeted", "re-owned", "re-aligned"
DECIDED = "decision"  # finance's decision on an initiative changed (review columns)
REPARENTED = "re-parented"  # an initiative of a unit aligned to its parent's plan serves other parent initiatives
PARENT_ROLES = (OBJECTIVE_REF, OBJECTIVE_SPLIT)  # where such a unit names its parent's initiatives
DECISION_ROLES = (DECISION, APPROVED_BUDGET, APPROVED_HEADCOUNT, REVIEW_COMMENT)  # what a decision change compares
CHANGE_ROLES = {  # change kind -> the roles of the spec columns it looks at (those a sheet has not are skipped)
    RETARGETED: (BASELINE, TARGET, UNIT, DUE_PERIOD),
    REOWNED: (OWNER, TEAM),
    REALIGNED: (OBJECTIVE_REF, OBJECTIVE_SPLIT, INITIATIVE_REF),
}
KIND_ORDER = {ADDED: 0, REMOVED: 1, RETARGETED: 2, REOWNED: 3, REALIGNED: 4, REPARENTED: 5, DECIDED: 6}


@dataclass(frozen=True)
class Change:
    sheet: str  # spec sheet key: initiatives, kpis
    kind: str  # added, removed, retargeted, re-owned, re-aligned, decision
    id: str
    department: str
    title: str
    field: str = ""  # the column header, for changes of a value
    old: Any = None
    new: Any = None
    level: int = 0  # the unit's level in the org tree (0: not known, the diff was given no nested tree)


@dataclass(frozen=True)
class CoverageChange:
    objective: str
    old_departments: tuple[str, ...]
    new_departments: tuple[str, ...]
    old_initiatives: int
    new_initiatives: int

    @property
    def gained(self) -> tuple[str, ...]:
        return tuple(d for d in self.new_departments if d not in self.old_departments)

    @property
    def lost(self) -> tuple[str, ...]:
        return tuple(d for d in self.old_departments if d not in self.new_departments)

    @property
    def summary(self) -> str:
        if not self.new_departments:
            return "now uncovered"
        if not self.old_departments:
            return "newly covered"
        parts = [f"+{', '.join(self.gained)}" if self.gained else "", f"-{', '.join(self.lost)}" if self.lost else ""]
        return " ".join(p for p in parts if p)


@dataclass
class MasterDiff:
    old: str
    new: str
    changes: list[Change] = field(default_factory=list)
    coverage: list[CoverageChange] = field(default_factory=list)
    nested: bool = False  # made with a strategy whose units report to units: levels and re-parented shown

    def __bool__(self) -> bool:
        return bool(self.changes or self.coverage)

    def kinds(self) -> list[str]:
        """The change kinds this diff reports on (re-parented only with a nested org tree)."""
        return [k for k in KIND_ORDER if self.nested or k != REPARENTED]

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(self.kinds(), 0)
        for c in self.changes:
            out[c.kind] += 1
        out["coverage"] = len(self.coverage)
        return out

    def _change(self, change: Change) -> dict:
        data = asdict(change)
        if not self.nested:
            del data["level"]
        return data

    def to_dict(self) -> dict:
        return {
            "old": self.old,
            "new": self.new,
            "counts": self.counts(),
            "changes": [self._change(c) for c in self.changes],
            "coverage": [
                {**asdict(c), "gained": list(c.gained), "lost": list(c.lost), "summary": c.summary}
                for c in self.coverage
            ],
        }


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    norm = lambda v: " ".join(str(v).split()).casefold() if v not in (None, "") else ""  # noqa: E731
    return norm(a) == norm(b)


def _title(record: Record, sheet: SheetSpec) -> str:
    """The row in one line: its column of role ``title`` (an initiative's title, a KPI's name)."""
    return str(record.values.get(sheet.key_of(TITLE)) or "")


def _by_id(rows: tuple[Record, ...]) -> dict[str, Record]:
    out: dict[str, Record] = {}
    for record in rows:
        out.setdefault(record.id.casefold(), record)
    out.pop("", None)
    return out


def _coverage(master: MasterData, spec: Spec, cascaded: set[str]) -> dict[str, tuple[set[str], int]]:
    """Objective -> the departments with an initiative serving it, and how many initiatives; the rows of
    ``cascaded`` units (casefolded codes: aligned to a parent's plan) name no objective and are skipped."""
    found: dict[str, tuple[set[str], int]] = {}
    sheet = spec.sheet_by_role(INITIATIVES)
    split_key, objective_key = (sheet.key_of(OBJECTIVE_SPLIT), sheet.key_of(OBJECTIVE_REF)) if sheet else ("", "")
    for record in master.records.get(sheet.key if sheet else "", ()):
        if record.department.casefold() in cascaded:
            continue
        split = record.values.get(split_key)
        objectives = _split_ids(split) or [str(record.values.get(objective_key) or "")]
        for objective in objectives:
            if objective:
                departments, count = found.get(objective, (set(), 0))
                departments.add(record.department)
                found[objective] = (departments, count + 1)
    return found


def _split_ids(split: Any) -> list[str]:
    if isinstance(split, tuple):
        return [str(o) for o, _ in split]
    if isinstance(split, str) and split.strip():
        parsed = parse_value(split, "allocation")
        if parsed.ok:
            return [str(o).upper() for o, _ in parsed.value]
    return []


def master_decisions(path: str | Path, spec: Spec) -> tuple[Decision, ...]:
    """Every decision in the master at ``path``: on its Initiatives table and its orphans sheet. An export
    folder has none; a master whose review columns are damaged raises ``ReviewDamaged`` (a MasterError)."""
    path = Path(path)
    if path.is_dir() or path.suffix.lower() in (".yaml", ".yml"):
        return ()
    read = read_decisions(path, spec)
    return read.decisions + read.orphans


def diff_masters(
    old: MasterData,
    new: MasterData,
    spec: Spec | None = None,
    decisions: tuple[Sequence[Decision], Sequence[Decision]] | None = None,
    strategy: Strategy | None = None,
) -> MasterDiff:
    """What changed from ``old`` to ``new``. ``decisions``: each master's (:func:`master_decisions`, read
    from ``old.path`` and ``new.path`` when not given). ``strategy``: the new cycle's, for its org tree
    (levels, and re-parented for units aligned to their parent's plan); without it the diff is flat."""
    spec = spec or load_spec("department")
    tree = OrgTree.of(strategy.departments) if strategy is not None else None
    nested = tree is not None and tree.nested
    result = MasterDiff(old.path, new.path, nested=nested)
    cascaded = {k for k, d in tree.units.items() if d.aligns_to == "parent"} if tree is not None and nested else set()
    initiatives_key = spec.sheet_key(INITIATIVES)
    if decisions is None:
        decisions = (master_decisions(old.path, spec), master_decisions(new.path, spec))
    result.changes += _decision_changes(*decisions, old, new, spec)
    for sheet in spec.sheets:
        before, after = _by_id(old.records.get(sheet.key, ())), _by_id(new.records.get(sheet.key, ()))
        for key, record in after.items():
            if key not in before:
                result.changes.append(Change(sheet.key, ADDED, record.id, record.department, _title(record, sheet)))
        for key, record in before.items():
            if key not in after:
                result.changes.append(Change(sheet.key, REMOVED, record.id, record.department, _title(record, sheet)))
        for key, was in before.items():
            now = after.get(key)
            if now is None:
                continue
            if not _same(was.department, now.department):
                result.changes.append(
                    Change(
                        sheet.key,
                        REOWNED,
                        now.id,
                        now.department,
                        _title(now, sheet),
                        "Department",
                        was.department,
                        now.department,
                    )
                )
            reparents = sheet.key == initiatives_key and now.department.casefold() in cascaded
            for kind, roles in CHANGE_ROLES.items():
                for col in (c for c in sheet.columns if c.role in roles):
                    a, b = was.values.get(col.key), now.values.get(col.key)
                    if not _same(a, b):
                        shown = REPARENTED if kind == REALIGNED and reparents and col.role in PARENT_ROLES else kind
                        result.changes.append(
                            Change(sheet.key, shown, now.id, now.department, _title(now, sheet), col.header, a, b)
                        )
    if nested and tree is not None:  # each change's unit's level (0 for a department the strategy has not)
        levels = {code.casefold(): tree.level(code) for code in tree.order()}
        result.changes = [dataclasses.replace(c, level=levels.get(c.department.casefold(), 0)) for c in result.changes]
    sheet_order = {s.key: i for i, s in enumerate(spec.sheets)}
    result.changes.sort(key=lambda c: (sheet_order.get(c.sheet, 9), KIND_ORDER[c.kind], c.department, c.id))

    before, after = _coverage(old, spec, cascaded), _coverage(new, spec, cascaded)
    for objective in sorted(set(before) | set(after)):
        (d0, n0), (d1, n1) = before.get(objective, (set(), 0)), after.get(objective, (set(), 0))
        if d0 != d1:
            result.coverage.append(CoverageChange(objective, tuple(sorted(d0)), tuple(sorted(d1)), n0, n1))
    return result


def _decision_changes(
    before: Sequence[Decision], after: Sequence[Decision], old: MasterData, new: MasterData, spec: Spec
) -> list[Change]:
    """One ``decision`` change per initiative whose decision, approved amounts or comment differ (decided
    in one master only included): the changed columns' headers, and their values old and new."""
    columns = [c for role in DECISION_ROLES if (c := spec.review.by_role(role)) is not None]
    sheet = spec.require_sheet(INITIATIVES)
    was = {d.key: d for d in reversed(before)}  # the Initiatives table's before the orphans sheet's
    now = {d.key: d for d in reversed(after)}
    titles = {
        (r.department.strip().casefold(), r.id.strip().casefold()): _title(r, sheet)
        for data in (old, new)
        for r in data.records.get(sheet.key, ())
    }
    changes = []
    for key in sorted(set(was) | set(now)):
        a, b = was.get(key), now.get(key)
        changed = [
            c for c in columns if not _same(a.values.get(c.key) if a else None, b.values.get(c.key) if b else None)
        ]
        if not changed:
            continue
        d = b or a
        assert d is not None
        title = titles.get(key) or str(d.reviewed.get(TITLE) or "")

        changes.append(
            Change(
                sheet.key,
                DECIDED,
                d.initiative_id,
                d.department,
                title,
                ", ".join(c.header for c in changed),
                _decision_values(a, changed),
                _decision_values(b, changed),
            )
        )
    return changes


def _decision_values(decision: Decision | None, columns: Sequence[Column]) -> Any:
    """A decision's values in ``columns``: the value itself for one column, else them all in one line."""
    shown = [decision.values.get(c.key) if decision else None for c in columns]
    return shown[0] if len(shown) == 1 else " · ".join(_shown(v) for v in shown)


def _shown(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def print_diff(diff: MasterDiff, console, spec: Spec | None = None) -> None:
    """The diff as rich tables."""
    from rich.table import Table

    spec = spec or load_spec("department")
    titles = {s.key: s.title for s in spec.sheets}
    if not diff:
        console.print(f"No changes between {Path(diff.old).name} and {Path(diff.new).name}.")
        return
    table = Table(title=f"{Path(diff.old).name} → {Path(diff.new).name}", title_justify="left")
    for column in (*DIFF_CHANGES_COLUMNS, *([DIFF_LEVEL_COLUMN] if diff.nested else [])):
        table.add_column(column, overflow="fold")
    styles = {
        ADDED: "green",
        REMOVED: "red",
        RETARGETED: "yellow",
        REOWNED: "cyan",
        REALIGNED: "magenta",
        REPARENTED: "bright_magenta",
        DECIDED: "blue",
    }
    for c in diff.changes:
        table.add_row(
            titles.get(c.sheet, c.sheet),
            f"[{styles[c.kind]}]{c.kind}[/]",
            c.id,
            c.department,
            c.title[:50],
            c.field,
            _shown(c.old) if c.field else "",
            _shown(c.new) if c.field else "",
            *([str(c.level or "")] if diff.nested else []),
        )
    if diff.changes:
        console.print(table)
    if diff.coverage:
        cov = Table(title="Objectives whose coverage changed", title_justify="left")
        for column in ("Objective", "Before", "After", "Change"):
            cov.add_column(column)
        for c in diff.coverage:
            cov.add_row(
                c.objective,
                f"{', '.join(c.old_departments) or 'none'} ({c.old_initiatives})",
                f"{', '.join(c.new_departments) or 'none'} ({c.new_initiatives})",
                c.summary,
            )
        console.print(cov)
    counts = diff.counts()
    console.print(", ".join(f"{n} {k}" for k, n in counts.items() if n) or "no changes")


def write_diff_workbook(diff: MasterDiff, path: str | Path, spec: Spec | None = None) -> Path:
    """The diff as a workbook: a Changes sheet and a Coverage sheet (pandas + xlsxwriter)."""
    import pandas as pd

    spec = spec or load_spec("department")
    titles = {s.key: s.title for s in spec.sheets}
    level = [DIFF_LEVEL_COLUMN] if diff.nested else []  # last: an unstamped diff is still known by the others
    changes = pd.DataFrame(
        [
            [
                titles.get(c.sheet, c.sheet),
                c.kind,
                c.id,
                c.department,
                c.title,
                c.field,
                _cell(c.old),
                _cell(c.new),
                *([c.level or None] if diff.nested else []),
            ]
            for c in diff.changes
        ],
        columns=[*DIFF_CHANGES_COLUMNS, *level],
    )
    coverage = pd.DataFrame(
        [
            [
                c.objective,
                ", ".join(c.old_departments),
                ", ".join(c.new_departments),
                c.old_initiatives,
                c.new_initiatives,
                c.summary,
            ]
            for c in diff.coverage
        ],
        columns=[
            "Objective",
            "Departments before",
            "Departments after",
            "Initiatives before",
            "Initiatives after",
            "Change",
        ],
    )
    buffer = io.BytesIO()
    with pd.ExcelWriter(
        buffer,
        engine="xlsxwriter",
        engine_kwargs={
            "options": {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
        },
    ) as writer:
        size = xlsx_writer.EXCEL_MAX_ROWS - 1  # past Excel's last row ('Changes (2)', ...); read when written
        parts = [
            (continued_sheet(name, i + 1), frame.iloc[start : start + size], widths)
            for name, frame, widths in (
                (DIFF_CHANGES_SHEET, changes, [12, 12, 12, 12, 50, 14, 16, 16, *([8] if level else [])]),
                (DIFF_COVERAGE_SHEET, coverage, [10, 24, 24, 12, 12, 20]),
            )
            for i, start in enumerate(range(0, max(len(frame), 1), size))
        ]
        for name, frame, widths in parts:
            frame.to_excel(writer, sheet_name=name, index=False)
            ws = writer.sheets[name]
            for c, width in enumerate(widths):
                ws.set_column(c, c, width)
            ws.freeze_panes(1, 0)
            ws.autofilter(0, 0, max(len(frame), 1), len(frame.columns) - 1)
        stamp(writer.book, DIFF)  # intake skips it, whatever it is called
    path = Path(path)
    write_bytes_atomic(path, buffer.getvalue())
    return path


def _cell(value: Any) -> Any:
    """pandas writes numbers as numbers and everything else as text."""
    if value is None or isinstance(value, (int, float, str)):
        return value
    return str(value)
