"""The Goal Hierarchy sheet: vision -> objectives -> initiatives -> KPIs, an outline finance can fold."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from cascadebook.consolidate.commitments import UNALIGNED, UNALIGNED_TITLE
from cascadebook.consolidate.packed import RecordList, Spool
from cascadebook.consolidate.reconcile import Reconciliation
from cascadebook.master.book import MasterWriter
from cascadebook.master.chain import MAX_OUTLINE, PATH_SEPARATOR, ChainWalk
from cascadebook.master.progress_sheet import HierarchyProgress
from cascadebook.master.tables import allocation_runs
from cascadebook.model import Record
from cascadebook.spec.roles import (
    BASELINE,
    DUE_PERIOD,
    IMPACT,
    INITIATIVE_REF,
    INITIATIVES,
    KPIS,
    LEVEL,
    OWNER,
    TARGET,
    TEAM,
    TITLE,
    UNIT,
)
from cascadebook.spec.schema import Spec
from cascadebook.xlsx.layout import BOLD_FACTOR, WIDE_FACTOR, merged_width, row_height, text_lines
from cascadebook.xlsx.writer import (
    SheetStream,
    continued_sheet,
    forget_row,
    number_styles,
    whole_pixels,
    write_rows,
)

HIERARCHY_SHEET = "Goal Hierarchy"
CONTINUED = " (continued)"


def write_hierarchy(w: MasterWriter, result: Reconciliation, rows_dir: str | None = None) -> None:
    with Spool(rows_dir) as spool:  # beside xlsxwriter's own row files
        _fill_hierarchy(w, result, spool)


def _fill_hierarchy(w: MasterWriter, result: Reconciliation, spool: Spool) -> None:
    """Vision → objectives → initiatives → KPIs as a foldable outline, streamed row by row.

    Past Excel's last row the outline goes on in 'Goal Hierarchy (2)', ... : each continuation
    sheet has the header and first repeats the objective it is in the middle of, marked
    "Objective (continued)" so a filter on "Objective" still counts each objective once.
    """
    s = result.strategy
    headers = list(HIERARCHY_HEADERS)
    cascade = result.cascade
    if cascade is not None:  # the chain's own columns (issue 20); a flat master is as it was
        headers += CHAIN_HEADERS
    progress = None
    if result.progress:  # progress and RAG at every level, beside the goals
        plan = (result.spec.sheet_key(INITIATIVES), result.spec.sheet_key(KPIS))
        progress = HierarchyProgress(w.book, result.progress, len(headers), plan)
    date_format = w.typed("date")
    formats = [
        [
            w.levels[level] if c == GOAL else w.wrap if c == METRIC else date_format if c == DUE_DATE else w.top
            for c in range(len(headers))
        ]
        for level in range(4)
    ]
    share_format = None
    if cascade is not None:  # deeper initiatives (and their KPIs) indented one step per level of the chain
        share_format = w.book.add_format({"num_format": "0%", "valign": "top"})
        formats += _deeper(w, formats, share_format)
    outline = [None, None, {"level": 1}, {"level": 2}]
    in_unit = _UnitFormats(w, formats)
    # styles numbered in the order rows are placed, also when packed rows are rendered ahead (_rows_by_objective)
    number_styles(
        (
            *(level[GOAL] for level in formats),
            *((share_format,) if share_format is not None else ()),
            w.wrap,
            w.top,
            date_format,
            *in_unit.known.values(),
        )
    )

    def start(number: int, banner: Iterable[list[Any]] = ()):
        """A sheet of the hierarchy, its header and ``banner`` rows (vision, mission) written, and its stream."""
        ws = w.sheet(continued_sheet(HIERARCHY_SHEET, number))
        w.header_row(ws, 0, headers, WIDTHS if cascade is None else WIDTHS + CHAIN_WIDTHS)
        ws.freeze_panes(1, 0)
        ws.outline_settings(True, False, True, False)
        ws.autofilter(0, 0, 0, len(headers) - 1)
        if progress is not None:
            progress.header(ws)
        r = 1
        for values in banner:  # before the stream: a merged, wrapped band
            _banner_row(w, ws, r, values)
            if progress is not None:
                progress.row(ws, r, 0, values[1], "")
            r += 1
        # (a Progress column is written cell by cell)
        stream = SheetStream(ws, r, date_format=date_format) if progress is None and SheetStream.supported(ws) else None
        return ws, stream, r

    def finish(ws, stream) -> None:
        if stream is not None:
            stream.close()
        if progress is not None:
            progress.finish(ws)

    number = 1
    ws, stream, r = start(number, (["Vision", "", s.vision], ["Mission", "", s.mission]))
    render = (
        None
        if stream is None
        # rows rendered ahead fit any sheet of the hierarchy
        else (
            lambda values, level, first=stream: first.render(
                values, in_unit(level, values), level - 1, _height(level, values)
            )
        )
    )
    if cascade is None:
        below, unattached = _rows_by_objective(result, spool, render)
    else:
        below, unattached = _chain_rows(result)

    def rows() -> Iterable[tuple[int, Any]]:  # made while written: never a copy of every record
        for o in s.objectives:
            yield 1, ["Objective", o.id, o.title, "", o.owner, o.metric, o.baseline, o.target, o.unit, "", o.deadline]
            yield from below(o.id)
        if result.unaligned:  # nothing is left out: initiatives no recognised objective takes, then
            yield 1, [UNALIGNED, "", UNALIGNED_TITLE]  # KPIs whose initiative is not recognised
            yield from below(UNALIGNED)
        if unattached:
            yield 1, [UNATTACHED, "", UNATTACHED_TITLE]
            yield from below(UNATTACHED)

    objective: list[Any] = []
    for row in rows():  # then, for a row of the chain, its outline level and format
        level, values, chained = row[0], row[1], row[2:]
        if level == 1:
            objective = values
        if r >= w.max_rows:
            finish(ws, stream)
            number += 1
            ws, stream, r = start(number)
            if level > 1 and objective:
                _hierarchy_row(
                    ws,
                    stream,
                    r,
                    1,
                    [objective[0] + CONTINUED, *objective[1:]],
                    in_unit,
                    outline,
                    progress,
                    date_format,
                )
                r += 1
        _hierarchy_row(ws, stream, r, level, values, in_unit, outline, progress, date_format, *chained)
        r += 1
    finish(ws, stream)


def _hierarchy_row(
    ws, stream, r: int, level: int, values: Any, in_unit, outline, progress, date_format, depth=None, style=None
) -> None:
    """One row: ``values`` is a list of cell values or a row the stream rendered ahead (a tuple);
    ``depth`` and ``style``, for a row of the chain, its outline level and its index in ``in_unit``'s formats."""
    fmt = in_unit(level if style is None else style, values)
    if stream is not None:
        if type(values) is tuple:
            stream.put(values)
        else:
            stream.row(values, fmt, max(level - 1, 0) if depth is None else depth, _height(level, values))
        return
    height = _height(level, values)
    grouped = outline[level] if depth is None else ({"level": depth} if depth else None)
    if grouped or height:
        ws.set_row(r, height, None, grouped)
    write_rows(ws, r, (values,), fmt, date_format=date_format)
    if progress:
        progress.row(ws, r, level, values[1], values[3] if len(values) > 3 else "")
    forget_row(ws, r - 1)


HIERARCHY_HEADERS = (
    "Level",
    "ID",
    "Goal",
    "Department",
    "Owner",
    "Metric / impact",
    "Baseline",
    "Target",
    "Unit",
    "Due period",  # an initiative's or KPI's period (Q3)
    "Due date",  # an objective's deadline (a date)
)
GOAL, METRIC, BASELINE_COL, TARGET_COL, UNIT_COL, DUE_DATE = 2, 5, 6, 7, 8, 10
WIDTHS = [12, 11, 60, 12, 20, 40, 13, 13, 9, 9, 11]  # and CHAIN_WIDTHS in a cascade
BANNER = slice(GOAL, METRIC + 1)  # the vision's and mission's band: Goal to Metric / impact, merged


def _height(level: int, values: Any) -> float | None:
    """A row's height for its wrapped goal and metric (None: one line, the default height)."""
    goal = (WIDTHS[GOAL] - 2 * level) * (BOLD_FACTOR if level <= 1 else 1)  # indented; objectives bold
    texts = [(values[GOAL], goal)] + ([(values[METRIC], WIDTHS[METRIC])] if len(values) > METRIC else [])
    if all(_one_line(text, width) for text, width in texts):
        return None
    return whole_pixels(row_height(texts))


def _one_line(text: Any, width: float) -> bool:
    """Whether ``text`` takes one line of ``width``: most do, and are told by their length alone."""
    if text is None or (type(text) is str and len(text) * WIDE_FACTOR < width - 1 and "\n" not in text):
        return True
    return text_lines(text, width) <= 1


def _banner_row(w: MasterWriter, ws, r: int, values: list[Any]) -> None:
    """The vision or mission: its level's fill across its label and the merged cells its text fills."""
    band = w.levels[0]
    ws.write_string(r, 0, values[0], band)
    ws.write_blank(r, 1, None, band)
    width = merged_width(WIDTHS[BANNER])
    ws.merge_range(r, BANNER.start, r, BANNER.stop - 1, values[GOAL] or "", band)
    ws.set_row(r, row_height([(values[GOAL], width * BOLD_FACTOR)], font_size=12))


class _UnitFormats:
    """A row's formats: its level's, with the baseline and target in the row's unit. The formats are
    those :meth:`MasterWriter.unit_formats` makes up front (numbered before rows are rendered ahead);
    a unit outside them (a currency code without a sign) is shown as a plain number."""

    def __init__(self, w: MasterWriter, formats: list[list[Any]]):
        self.w, self.formats = w, formats
        self.known = {f: w.numeric(f) for f in w.unit_formats()}
        self.made: dict[tuple[int, str], list[Any]] = {}

    def __call__(self, level: int, values: Any) -> list[Any]:
        if len(values) <= UNIT_COL:
            return self.formats[level]
        num_format = self.w.unit_format(values[UNIT_COL], (values[BASELINE_COL], values[TARGET_COL]))
        if num_format not in self.known:
            num_format = self.w.unit_format("", (values[BASELINE_COL], values[TARGET_COL]))
        found = self.made.get((level, num_format))
        if found is None:
            found = self.made[(level, num_format)] = list(self.formats[level])
            found[BASELINE_COL] = found[TARGET_COL] = self.known[num_format]
        return found


class _HierarchyRows:
    """The Goal Hierarchy's rows of an initiative and of a KPI, their cells found by role (the
    hierarchy's own columns -- Level, Goal, Owner, Metric / impact, Baseline, Target, Due -- hold
    objectives, initiatives and KPIs alike)."""

    def __init__(self, spec: Spec):
        initiatives, kpis = spec.sheet_by_role(INITIATIVES), spec.sheet_by_role(KPIS)
        on = lambda sheet, *roles: [sheet.key_of(r) if sheet is not None else "" for r in roles]  # noqa: E731
        self.initiative_keys = on(initiatives, TITLE, OWNER, IMPACT, BASELINE, TARGET, UNIT, DUE_PERIOD)
        self.kpi_keys = on(kpis, TITLE, OWNER, TEAM, BASELINE, TARGET, UNIT, DUE_PERIOD)
        self.level, self.parent_key = on(kpis, LEVEL, INITIATIVE_REF)

    def initiative(self, i: Record) -> tuple[int, list[Any]]:
        v = i.values
        title, owner, impact, baseline, target, unit, due = (v.get(k) for k in self.initiative_keys)
        return 2, ["Initiative", i.id, title, i.department, owner, impact, baseline, target, unit, due, None]

    def kpi(self, k: Record) -> tuple[int, list[Any]]:
        v = k.values
        title, owner, team, baseline, target, unit, due = (v.get(key) for key in self.kpi_keys)
        typed = v.get(self.level)
        level = f"{typed} KPI" if typed else "KPI"  # a KPI of no level typed is a "KPI", not a "KPI KPI"
        return 3, [level, k.id, title, k.department, owner, team, baseline, target, unit, due, None]

    def parent(self, k: Record) -> str:
        """A KPI's initiative id, case folded."""
        return str(k.values.get(self.parent_key) or "").casefold()


UNATTACHED = "Unattached"  # the Goal Hierarchy's section of KPIs whose initiative is not recognised
UNATTACHED_TITLE = "KPIs whose initiative is not recognised"


def _rows_by_objective(
    result: Reconciliation, spool: Spool, render: Callable[[list[Any], int], Any] | None = None
) -> tuple[Callable[[str], Iterable[tuple[int, Any]]], int]:
    """The Goal Hierarchy's initiative and KPI rows under one objective, in allocation order, and
    how many KPIs have no recognised initiative.

    Besides the objectives' ids, :data:`UNALIGNED` gives the initiatives (and their KPIs) that no
    recognised objective takes, and :data:`UNATTACHED` the KPIs whose initiative is not recognised.

    The sheet goes objective by objective, the records department by department. Plain records are
    looked up where they are. Packed ones (consolidate/packed.py) would be decoded once per objective that way,
    so each department is decoded once instead and its rows are put aside per objective on disk
    (in ``spool``), rendered already when ``render`` is given (what the sheet's stream makes of a
    row's values).
    """
    kpis = result.kpis
    made = _HierarchyRows(result.spec)
    parts = (result.allocations, result.unaligned)
    if not (getattr(result.initiatives, "is_packed", False) or getattr(kpis, "is_packed", False)):
        by_initiative: dict[tuple[str, str], list[int]] = {}
        for index, k in enumerate(kpis):
            by_initiative.setdefault((k.department, made.parent(k)), []).append(index)
        by_objective: dict[str, list] = {}
        known: set[tuple[str, str]] = set()
        for part in parts:
            for a in part:
                by_objective.setdefault(a.objective_id, []).append(a)
                known.add((a.department, a.initiative_id.casefold()))
        unattached = sorted(i for key, found in by_initiative.items() if key not in known for i in found)

        def plain(objective_id: str) -> Iterable[tuple[int, list[Any]]]:
            if objective_id == UNATTACHED:
                for index in unattached:
                    yield made.kpi(kpis[index])
                return
            for a in by_objective.get(objective_id, []):
                i = a.record
                yield made.initiative(i)
                for index in by_initiative.get((i.department, i.id.casefold()), []):
                    yield made.kpi(kpis[index])

        return plain, len(unattached)

    def keep(row: tuple[int, list[Any]]) -> tuple[int, Any]:
        return row if render is None else (row[0], render(row[1], row[0]))

    kpi_chunks = kpis.departments() if isinstance(kpis, RecordList) else {}
    runs = [allocation_runs(part) for part in parts]
    unattached_count = 0
    for department in sorted({*runs[0], *runs[1], *kpi_chunks}):  # the records' order (reconcile sorts)
        mine: dict[str, list[Record]] = {}
        theirs: list[Record] = []  # the department's KPIs in order
        for chunk in kpi_chunks.get(department, ()):
            for k in kpis.chunk(chunk):
                if k.department == department:
                    mine.setdefault(made.parent(k), []).append(k)
                    theirs.append(k)
        used: set[str] = set()
        for part, part_runs in zip(parts, runs):
            for start, end in part_runs.get(department, ()):
                for a in part[start:end]:
                    i = a.record
                    used.add(i.id.casefold())
                    spool.put(a.objective_id, keep(made.initiative(i)))
                    for k in mine.get(i.id.casefold(), ()):
                        spool.put(a.objective_id, keep(made.kpi(k)))
        for k in theirs:
            if made.parent(k) not in used:
                spool.put(UNATTACHED, keep(made.kpi(k)))
                unattached_count += 1

    return spool.pop, unattached_count


# The Goal Hierarchy of a cascade (issue 20): after the usual columns, the level of the row's unit in the
# org tree, the share of it that serves the row above (a child split over parents is under each), and
# the path up to its corporate objective.
CHAIN_HEADERS = ["Org level", "Share", "Traces to"]
CHAIN_WIDTHS = [9, 8, 36]
FIRST_DEEPER = 4  # formats[4:] : initiatives at chain depth 2..7, then their KPIs


def _deeper(w: MasterWriter, formats: list[list[Any]], share_format: Any) -> list[list[Any]]:
    """Formats of initiatives below a chain top and of their KPIs: each level indented one step more."""
    out = []
    for kind, italic in ((2, False), (3, True)):
        for depth in range(2, MAX_OUTLINE + 1):
            goal = w.book.add_format(
                {"align": "left", "indent": kind + depth - 1, "text_wrap": True, "valign": "top", "italic": italic}
            )
            out.append([goal if c == GOAL else f for c, f in enumerate(formats[kind])])
    share = len(HIERARCHY_HEADERS) + 1
    for row in (*formats, *out):
        row[share] = share_format
    return out


def _style(kind: int, depth: int) -> int:
    """The format index of an initiative (kind 2) or KPI (kind 3) of a chain ``depth`` levels down."""
    if depth <= 1:
        return kind
    return FIRST_DEEPER + (kind - 2) * (MAX_OUTLINE - 1) + min(depth, MAX_OUTLINE) - 2


def _chain_rows(result: Reconciliation) -> tuple[Callable[[str], Iterable[tuple]], int]:
    """Under each objective, its chain tops and the initiatives aligned to each, any depth, every
    initiative followed by its KPIs; in :data:`UNALIGNED` the initiatives no chain takes and in
    :data:`UNATTACHED` the KPIs whose initiative is not recognised, as for a flat master."""
    assert result.cascade is not None
    made = _HierarchyRows(result.spec)
    walk = ChainWalk(result, result.cascade)
    tree = result.cascade
    kpis: dict[tuple[str, str], list[Record]] = {}
    for k in result.kpis:
        kpis.setdefault((k.department, made.parent(k)), []).append(k)
    allocated: dict[str, list[Record]] = {}
    why: dict[tuple[str, str], str] = {}  # an unaligned initiative: why its chain leads nowhere
    known: set[tuple[str, str]] = set()
    for part in (result.allocations, result.unaligned):
        for a in part:
            allocated.setdefault(a.objective_id, []).append(a.record)
            known.add((a.department, a.initiative_id.casefold()))
            if a.objective_id == UNALIGNED:
                why[(a.department, a.initiative_id)] = f"leads nowhere: {a.left_out}" if a.left_out else ""

    def chain_of(i: Record, depth: int, weight: float | None, path: str, traced: bool = True) -> Iterable[tuple]:
        kind, values = made.initiative(i)
        outline = min(depth, MAX_OUTLINE)
        yield kind, [*values, tree.level(i.department), weight, path], outline, _style(2, depth)
        trace = f"{path}{PATH_SEPARATOR}{i.id}" if path and traced else i.id
        for k in kpis.get((i.department, i.id.casefold()), ()):
            kind, values = made.kpi(k)
            yield kind, [*values, tree.level(k.department), None, trace], min(depth + 1, MAX_OUTLINE), _style(3, depth)

    def below(objective_id: str) -> Iterable[tuple]:
        if objective_id == UNATTACHED:
            for (department, parent), found in kpis.items():
                if (department, parent) not in known:
                    for k in found:
                        kind, values = made.kpi(k)
                        yield kind, [*values, tree.level(k.department), None, ""], 2, 3
            return
        if objective_id == UNALIGNED:
            for i in allocated.get(UNALIGNED, ()):
                yield from chain_of(i, 1, None, why.get((i.department, i.id), ""), traced=False)
            return
        for step in walk.under(objective_id):
            yield from chain_of(step.record, step.depth, step.weight, step.traces_to)
        for i in walk.missed(objective_id, allocated.get(objective_id, [])):
            yield from chain_of(i, 1, None, objective_id)

    unattached = sum(len(found) for key, found in kpis.items() if key not in known)
    return below, unattached
