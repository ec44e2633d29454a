"""A cycle as text: stable, sorted YAML (and a CSV per table) that can be kept in git and diffed.

``hierarchy.yaml`` is the source of truth of an export (objectives -> initiatives -> KPIs, values
by spec key, typed); the CSVs are for people and spreadsheets. ``read_export`` turns an export
back into the same ``MasterData`` a master workbook gives, so ``generate --from``, ``checkin``
and ``diff`` take either.

Given a strategy whose units report to units (issue 20's org tree), the hierarchy nests by the tree
instead (format ``cascadebook-export/2``): each unit under its parent, with its own initiatives and
their KPIs, and the objectives listed once at the top; a unit's rows may name a parent initiative
where a flat unit names an objective, so grouping them under objectives would hide the cascade. A
flat export is ``/1`` as it always was; the reader takes both (an older reader refuses ``/2`` by its
format line rather than reading no initiatives from it).
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from cascadebook.atomic import all_or_nothing, check_writable, write_text_atomic
from cascadebook.consolidate.commitments import UNALIGNED
from cascadebook.intake.dispatch import checkin_spec
from cascadebook.kinds import EXPORT
from cascadebook.master.book import OBJECTIVE_COLUMNS
from cascadebook.master.commitments_sheet import COMMITMENTS_SHEET
from cascadebook.master.read import CheckinValue, MasterData, MasterError, checkin_actual_key, read_master
from cascadebook.model import Record, Strategy
from cascadebook.org import OrgTree
from cascadebook.spec.roles import ID, INITIATIVE_REF, INITIATIVES, KPIS, OBJECTIVE_REF
from cascadebook.spec.schema import Spec, load_spec

FORMAT = "cascadebook-export/1"
FORMAT_NESTED = "cascadebook-export/2"  # nested by the org tree: units under units, each with its initiatives
UNITS_FIELD = "units"  # a nested export's units (and each unit's children)
HIERARCHY_FILE = "hierarchy.yaml"
# The format's own names, whatever the spec calls its sheets: an objective holds its initiatives, an
# initiative its KPIs (rows of the spec's sheets of role initiatives and kpis, values by column key).
NESTED = {INITIATIVES: "initiatives", KPIS: "kpis"}
UNALIGNED_FIELD, UNATTACHED_FIELD = "unaligned_initiatives", "unattached_kpis"  # no objective, no initiative


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.date().isoformat() if (value.hour, value.minute, value.second) == (0, 0, 0) else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _row(record: Record, spec_sheet) -> dict[str, Any]:
    row = {"department": record.department}
    row.update(
        {c.key: _plain(record.values.get(c.key)) for c in spec_sheet.columns if record.values.get(c.key) is not None}
    )
    return row


def _objectives(path: Path) -> list[dict[str, Any]]:
    """Objective id and title (and plan) from the master's Commitments sheet."""
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_path(str(path))
    try:
        names = {n.casefold(): n for n in book.sheet_names}
        if COMMITMENTS_SHEET.casefold() not in names:
            return []
        rows = book.get_sheet_by_name(names[COMMITMENTS_SHEET.casefold()]).to_python(skip_empty_area=False)
    finally:
        book.close()
    keep = {
        "ID": "id",
        "Objective": "title",
        "Unit": "unit",
        "Direction": "direction",
        "Baseline": "baseline",
        "Target": "target",
    }
    index = {keep[h]: OBJECTIVE_COLUMNS.index(h) for h in keep}
    out = []
    for row in rows[1:]:
        if not row or row[0] in ("", None, "Total", UNALIGNED):  # not objectives
            continue
        out.append({k: _plain(row[i]) for k, i in index.items() if i < len(row) and row[i] not in ("", None)})
    return out


def export_master(
    master_path: str | Path, outdir: str | Path, spec: Spec | None = None, strategy: Strategy | None = None
) -> list[Path]:
    """Write hierarchy.yaml and one CSV per table of the master into ``outdir``; returns the paths.
    ``strategy``: the cycle's; when its units report to units, hierarchy.yaml nests by its org tree."""
    import pandas as pd

    spec = spec or load_spec("department")
    master_path, outdir = Path(master_path), Path(outdir)
    written = [outdir / HIERARCHY_FILE, *[outdir / f"{sheet.key}.csv" for sheet in spec.sheets]]
    check_writable(written)  # before reading: a CSV open in Excel is said at once
    data = read_master_or_export(master_path, spec)
    initiatives_sheet, kpis_sheet = spec.require_sheet(INITIATIVES), spec.sheet_by_role(KPIS)
    parent_key = kpis_sheet.key_of(INITIATIVE_REF) if kpis_sheet is not None else ""
    kpis_by_initiative: dict[tuple[str, str], list[dict]] = {}
    initiative_keys = {(i.department, i.id.casefold()) for i in data.initiatives}
    for k in sorted(data.kpis, key=lambda r: (r.department, r.id)):
        key = (k.department, str(k.values.get(parent_key) or "").casefold())
        kpis_by_initiative.setdefault(key, []).append(_row(k, kpis_sheet))
    objectives = _objectives(master_path)
    known = {o["id"] for o in objectives}
    by_objective: dict[str, list[dict]] = {}
    for i in sorted(data.initiatives, key=lambda r: (r.department, r.id)):
        row = _row(i, initiatives_sheet)
        kpis = kpis_by_initiative.get((i.department, i.id.casefold()))
        if kpis:
            row[NESTED[KPIS]] = kpis
        objective = str(i.values.get(initiatives_sheet.key_of(OBJECTIVE_REF)) or "")
        by_objective.setdefault(objective if objective in known else "", []).append(row)
    org = OrgTree.of(strategy.departments) if strategy is not None else None
    if org is not None and org.nested:
        rows = [row for group in by_objective.values() for row in group]
        tree = {
            "format": FORMAT_NESTED,
            "kind": EXPORT,
            "source": master_path.name,
            "objectives": sorted(objectives, key=lambda o: o["id"]),
            UNITS_FIELD: _units(org, rows),
        }
    else:
        tree = {
            "format": FORMAT,
            "kind": EXPORT,  # what every file cascadebook writes says about itself (kinds.py)
            "source": master_path.name,
            "objectives": [
                {**o, NESTED[INITIATIVES]: by_objective.get(o["id"], [])}
                for o in sorted(objectives, key=lambda o: o["id"])
            ],
        }
        if by_objective.get(""):
            tree[UNALIGNED_FIELD] = by_objective[""]
    orphans = [k for key, rows in sorted(kpis_by_initiative.items()) if key not in initiative_keys for k in rows]
    if orphans:  # KPIs whose initiative is not in the master: kept, never dropped
        tree[UNATTACHED_FIELD] = orphans
    order: dict[str, dict[str, list[str]]] = {}  # each department's rows as the master lists them
    for sheet in spec.sheets:
        for record in data.records.get(sheet.key, ()):
            if record.id:
                order.setdefault(record.department, {}).setdefault(sheet.key, []).append(record.id)
    if order:
        tree["order"] = order
    if data.checkins:
        tree["checkins"] = [
            {
                "department": c.department,
                "period": c.period,
                "sheet": c.sheet,
                "id": c.id,
                **{k: _plain(v) for k, v in c.values.items() if v is not None},
                **({"progress": round(c.progress, 6)} if c.progress is not None else {}),
            }
            for c in sorted(data.checkins, key=lambda c: (c.department, c.period, c.sheet, c.id))
        ]
    with all_or_nothing():  # the YAML and the CSVs are replaced together, or not at all
        write_text_atomic(written[0], yaml.safe_dump(tree, sort_keys=False, allow_unicode=True, width=100))
        for sheet, path in zip(spec.sheets, written[1:]):
            records = sorted(data.records.get(sheet.key, ()), key=lambda r: (r.department, r.id))
            frame = pd.DataFrame(
                [[r.department, *[_plain(r.values.get(c.key)) for c in sheet.columns]] for r in records],
                columns=["department", *[c.key for c in sheet.columns]],
                dtype=object,
            )
            write_text_atomic(path, frame.to_csv(index=False, lineterminator="\n"))
    return written


def _units(org: OrgTree, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The org tree as nested units, each with its initiatives (their KPIs inside, the department left
    out: the unit says it) and the units below it; a department of the master the strategy has not is
    listed after the tree, without a level, so none of its rows is lost."""
    mine: dict[str, tuple[str, list[dict[str, Any]]]] = {}  # casefolded code -> (code, its rows)
    for row in sorted(rows, key=lambda r: (str(r["department"]), str(r.get("id", "")))):
        code = str(row["department"])
        mine.setdefault(code.casefold(), (code, []))[1].append(_without_department(row))
    nodes: dict[str, dict[str, Any]] = {}
    top: list[dict[str, Any]] = []
    for code in org.order():  # parents before their children: each child is put in its parent's list
        unit = org.units[code.casefold()]
        node: dict[str, Any] = {"code": unit.code, "name": unit.name, "level": org.level(code)}
        if unit.aligns_to != "objectives":
            node["aligns_to"] = unit.aligns_to
        node[NESTED[INITIATIVES]] = mine.pop(code.casefold(), ("", []))[1]
        nodes[code] = node
        parent = org.parent(code)
        (nodes[parent].setdefault(UNITS_FIELD, []) if parent else top).append(node)
    top += [{"code": code, NESTED[INITIATIVES]: group} for code, group in mine.values()]  # not in the strategy
    return top


def _nodes(node: dict[str, Any]) -> list[dict[str, Any]]:
    """A unit and every unit below it, depth-first, without recursion."""
    found, stack = [], [node]
    while stack:
        n = stack.pop()
        found.append(n)
        stack.extend(reversed(n.get(UNITS_FIELD, [])))
    return found


def _without_department(row: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in row.items() if k != "department"}
    if NESTED[KPIS] in out:
        out[NESTED[KPIS]] = [{k: v for k, v in kpi.items() if k != "department"} for kpi in out[NESTED[KPIS]]]
    return out


def read_master_or_export(path: str | Path, spec: Spec | None = None) -> MasterData:
    """A master workbook, or an export folder (or its hierarchy.yaml): what ``generate --from``,
    ``checkin``, ``diff`` and ``export`` accept as last cycle's plan."""
    path = Path(path)
    if path.is_dir() or path.suffix.lower() in (".yaml", ".yml"):
        return read_export(path, spec)
    return read_master(path, spec)


def read_export(path: str | Path, spec: Spec | None = None) -> MasterData:
    """An export folder (or its hierarchy.yaml) back into MasterData."""
    spec = spec or load_spec("department")
    path = Path(path)
    yaml_path = path / HIERARCHY_FILE if path.is_dir() else path
    try:
        tree = yaml.safe_load(yaml_path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise MasterError(f"{yaml_path.name}: cannot read the export ({exc})") from None
    found = tree.get("format") if isinstance(tree, dict) else None
    if found is None and isinstance(tree, dict) and "departments" in tree and "objectives" in tree:
        raise MasterError(
            f"{yaml_path.name} is a strategy, not a master: give the master workbook written by "
            "reconcile (e.g. master.xlsx) or a folder written by cascadebook export"
        )
    if found is None:
        raise MasterError(
            f"{yaml_path.name} is not a master workbook or a cascadebook export (it has no "
            f"'format: {FORMAT}' line); give the master written by reconcile (e.g. master.xlsx) "
            "or a folder written by cascadebook export"
        )
    if found not in (FORMAT, FORMAT_NESTED):
        raise MasterError(
            f"{yaml_path.name}: export format {found!r} is not one this version reads ({FORMAT}, {FORMAT_NESTED})"
        )
    records: dict[str, list[Record]] = {s.key: [] for s in spec.sheets}
    initiatives_key, kpis_key = spec.sheet_key(INITIATIVES), spec.sheet_key(KPIS)
    mine, theirs = records.setdefault(initiatives_key, []), records.setdefault(kpis_key, [])
    initiatives = [i for o in tree.get("objectives", []) for i in o.get(NESTED[INITIATIVES], [])]
    initiatives += tree.get(UNALIGNED_FIELD, [])
    if found == FORMAT_NESTED:  # each unit's rows, the unit's code as their department
        initiatives = [
            {
                **item,
                "department": unit["code"],
                NESTED[KPIS]: [{**k, "department": unit["code"]} for k in item.get(NESTED[KPIS], [])],
            }
            for top in tree.get(UNITS_FIELD, [])
            for unit in _nodes(top)
            for item in unit.get(NESTED[INITIATIVES], [])
        ]
    for row_number, item in enumerate(initiatives, 1):
        for kpi in item.get(NESTED[KPIS], []):
            theirs.append(_record(kpis_key, kpi, spec, yaml_path.name, len(theirs) + 1))
        mine.append(_record(initiatives_key, item, spec, yaml_path.name, row_number))
    for kpi in tree.get(UNATTACHED_FIELD, []):
        theirs.append(_record(kpis_key, kpi, spec, yaml_path.name, len(theirs) + 1))
    _in_order(records, tree.get("order"))
    actual_key = checkin_actual_key(checkin_spec())
    checkins = tuple(
        CheckinValue(
            str(c["department"]),
            str(c["period"]),
            str(c["sheet"]),
            str(c["id"]),
            {k: v for k, v in c.items() if k not in ("department", "period", "sheet", "id", "progress")},
            c.get("progress"),
            actual_key,
        )
        for c in tree.get("checkins", [])
    )
    return MasterData(str(path), {k: tuple(v) for k, v in records.items() if k}, checkins, spec)


def _in_order(records: dict[str, list[Record]], order: Any) -> None:
    """Put each department's rows back in the order of its workbook (the master's), as ``order`` lists
    their ids: the hierarchy groups initiatives by objective, which is not the department's order.
    An export without it (or a row it does not list) keeps the hierarchy's order after the listed rows."""
    if not isinstance(order, dict):
        return
    for sheet_key, rows in records.items():
        position: dict[tuple[str, str], int] = {}
        for department, sheets in order.items():
            ids = sheets.get(sheet_key) if isinstance(sheets, dict) else None
            for n, ident in enumerate(ids if isinstance(ids, list) else ()):
                position.setdefault((str(department), str(ident)), n)
        rows.sort(key=lambda r: (r.department, position.get((r.department, str(r.id)), len(position))))


def _record(sheet_key: str, item: dict, spec: Spec, file: str, row: int) -> Record:
    if not sheet_key:  # the spec has no such sheet: its rows in the export are not read
        return Record(sheet_key, str(item.get("department", "")), file, "", row)
    sheet = spec.sheet(sheet_key)
    values = {}
    for col in sheet.columns:
        value = item.get(col.key)
        if col.type == "date" and isinstance(value, str):
            try:
                value = date.fromisoformat(value)
            except ValueError:
                pass
        values[col.key] = value
    id_key = sheet.key_of(ID)
    if values.get(id_key) is not None:
        values[id_key] = str(values[id_key])
    return Record(sheet_key, str(item.get("department", "")), file, sheet.title, row, values, {}, id_key)
