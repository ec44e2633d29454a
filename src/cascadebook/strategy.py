"""Strategy input from YAML or a strategy workbook, into one model, with SMART checks.

Both formats are first turned into the same raw shape (fields and rows, each value with where it
came from) and then built and checked by one path, so YAML and Excel users get the same findings.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from cascadebook.findings import Finding
from cascadebook.model import Department, Objective, Strategy
from cascadebook.org import OrgTree
from cascadebook.spec.schema import Column, Spec, YamlSyntaxError, did_you_mean, load_spec, read_yaml, unknown_keys
from cascadebook.spec.values import parse_value
from cascadebook.xlsx.addresses import a1

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class StrategyError(Exception):
    """The strategy cannot be used; ``findings`` says every reason at once."""

    def __init__(self, findings: list[Finding]):
        self.findings = findings
        super().__init__("; ".join(f"{f.where}: {f.message}" for f in findings[:5]))


@dataclass
class _Raw:
    """Values as found, and a function that says where each one is."""

    file: str
    fields: dict[str, Any]
    rows: dict[str, list[dict[str, Any]]]
    where: Callable[[str, int | None, str], dict]
    unknown: list[tuple[str, dict]] = field(default_factory=list)  # (message, where): keys the spec has not


YAML_ONLY_KEYS = ("email",)  # sections other parts read from a YAML strategy (mail.compose: `email:`)


def _from_yaml(path: Path, spec: Spec) -> _Raw:
    data = read_yaml(path) or {}
    if not isinstance(data, dict):
        raise ValueError("the top level must be a mapping of strategy fields")
    rows = {}
    for sheet in spec.sheets:
        items = data.get(sheet.key) or []
        rows[sheet.key] = [item if isinstance(item, dict) else {} for item in items]

    def where(sheet_key: str, index: int | None, key: str) -> dict:
        loc = key if index is None else f"{sheet_key}[{index}].{key}"
        return {"location": loc}

    fields = {k: v for k, v in data.items() if k not in rows}
    unknown = [
        (message, where("", None, key))
        for key, message in unknown_keys(data, [*(c.key for c in spec.fields), *rows, *YAML_ONLY_KEYS])
    ]
    for sheet in spec.sheets:
        known = [c.key for c in sheet.columns]
        for i, item in enumerate(rows[sheet.key]):
            unknown.extend((message, where(sheet.key, i, key)) for key, message in unknown_keys(item, known))
    return _Raw(path.name, fields, rows, where, unknown)


def _from_workbook(path: Path, spec: Spec) -> _Raw:
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_path(str(path))
    names = {n.casefold(): n for n in book.sheet_names}
    positions: dict[tuple, tuple[str, str]] = {}

    fields: dict[str, Any] = {}
    strategy_sheet = names.get("strategy")
    if strategy_sheet is None:
        raise ValueError("the workbook has no 'Strategy' sheet")
    by_header = {c.header.casefold(): c.key for c in spec.fields}
    unknown: list[tuple[str, dict]] = []
    for r, row in enumerate(book.get_sheet_by_name(strategy_sheet).to_python(skip_empty_area=False), 1):
        name = str(row[0]).strip() if row and row[0] is not None else ""
        if len(row) >= 2 and name.casefold() in by_header:
            key = by_header[name.casefold()]
            fields[key] = row[1]
            positions[(None, None, key)] = (strategy_sheet, a1(r, 2))
        elif name:
            unknown.append(
                (
                    f"unknown field {name!r}{did_you_mean(name, [c.header for c in spec.fields])}",
                    {"sheet": strategy_sheet, "cell": a1(r, 1)},
                )
            )

    rows: dict[str, list[dict[str, Any]]] = {}
    for sheet in spec.sheets:
        name = names.get(sheet.title.casefold())
        if name is None:
            raise ValueError(f"the workbook has no {sheet.title!r} sheet")
        data = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
        header_keys = {c.header.casefold(): c.key for c in sheet.columns}
        header = [header_keys.get(str(h).strip().casefold()) for h in (data[0] if data else [])]
        for c, h in enumerate(data[0] if data else [], 1):
            if str(h or "").strip() and header[c - 1] is None:
                unknown.append(
                    (
                        (
                            f"unknown column {str(h).strip()!r}"
                            f"{did_you_mean(str(h).strip(), [col.header for col in sheet.columns])}"
                        ),
                        {"sheet": name, "cell": a1(1, c)},
                    )
                )
        items = []
        for r, values in enumerate(data[1:], 2):
            if all(v in (None, "") for v in values):
                continue
            item = {}
            for c, (key, value) in enumerate(zip(header, values), 1):
                if key:
                    item[key] = value
                    positions[(sheet.key, len(items), key)] = (name, a1(r, c))
            items.append(item)
        rows[sheet.key] = items

    def where(sheet_key: str, index: int | None, key: str) -> dict:
        sheet_name, cell = positions.get((sheet_key if index is not None else None, index, key), ("", ""))
        if not sheet_name and index is not None:
            sheet_name = spec.sheet(sheet_key).title
        return {"sheet": sheet_name, "cell": cell}

    return _Raw(path.name, fields, rows, where, unknown)


class _Builder:
    def __init__(self, raw: _Raw):
        self.raw = raw
        self.findings: list[Finding] = []

    def report(self, code: str, message: str, sheet_key: str, index: int | None, key: str) -> None:
        self.findings.append(Finding(code, message, file=self.raw.file, **self.raw.where(sheet_key, index, key)))

    def value(self, col: Column, item: dict, sheet_key: str, index: int | None, label: str) -> Any:
        parsed = parse_value(item.get(col.key), col.type, choices=col.choices or None)
        if parsed.blank:
            if col.required:
                self.report("strategy-missing-value", f"{label}: {col.header} is missing", sheet_key, index, col.key)
            return None
        if parsed.error:
            self.report(
                "strategy-wrong-type",
                f"{label}: {col.header} should be {parsed.error}, found {item.get(col.key)!r}",
                sheet_key,
                index,
                col.key,
            )
            return None
        return parsed.value


def _periods(value: Any) -> tuple[str, ...]:
    if isinstance(value, (list, tuple)):
        return tuple(str(v).strip() for v in value if str(v).strip())
    if value in (None, ""):
        return ("Q1", "Q2", "Q3", "Q4")
    return tuple(p.strip() for p in re.split(r"[,;]", str(value)) if p.strip())


def _build(raw: _Raw, spec: Spec, source: str) -> tuple[Strategy | None, list[Finding]]:
    b = _Builder(raw)
    for message, where in raw.unknown:  # a misspelt key would otherwise vanish (a budget cap, a weight)
        b.findings.append(Finding("strategy-unknown-key", message, file=raw.file, **where))
    fields = {}
    for col in spec.fields:
        if col.key == "periods":
            fields[col.key] = _periods(raw.fields.get(col.key))
            continue
        fields[col.key] = b.value(col, raw.fields, "", None, "Strategy")

    objectives: list[Objective] = []
    obj_sheet = spec.sheet("objectives")
    for i, item in enumerate(raw.rows.get("objectives", [])):
        label = f"Objective {item.get('id') or i + 1}"
        v = {c.key: b.value(c, item, "objectives", i, label) for c in obj_sheet.columns}
        objectives.append(Objective(**{k: ("" if val is None and k in _TEXT_OBJ else val) for k, val in v.items()}))
        _smart(b, objectives[-1], i)
    _unique(b, [o.id for o in objectives], "objectives", "Objective")

    departments: list[Department] = []
    dep_sheet = spec.sheet("departments")
    for i, item in enumerate(raw.rows.get("departments", [])):
        label = f"Department {item.get('code') or i + 1}"
        v = {c.key: b.value(c, item, "departments", i, label) for c in dep_sheet.columns}
        if v.get("email") and not EMAIL.match(str(v["email"])):
            b.report("invalid-email", f"{label}: {v['email']!r} is not an e-mail address", "departments", i, "email")
        v["aligns_to"] = str(v.get("aligns_to") or "objectives").strip().casefold()
        departments.append(Department(**{k: val if k in _OPTIONAL_DEP else (val or "") for k, val in v.items()}))
    codes = [d.code for d in departments]
    _unique(b, codes, "departments", "Department")
    for i, d in enumerate(departments):
        if d.parent and d.parent not in codes:
            b.report(
                "unknown-parent",
                f"Department {d.code}: parent {d.parent!r} is not a department code",
                "departments",
                i,
                "parent",
            )
    _check_tree(b, departments)
    if fields.get("contact_email") and not EMAIL.match(str(fields["contact_email"])):
        b.report(
            "invalid-email",
            f"Strategy: {fields['contact_email']!r} is not an e-mail address",
            "",
            None,
            "contact_email",
        )
    currency = str(fields.get("currency") or "").strip().upper()  # "usd" is USD
    if currency and not CURRENCY_CODE.fullmatch(currency):
        b.report(
            "strategy-wrong-type",
            f"Strategy: {_header(spec, 'currency')} should be a three-letter ISO 4217 code such as USD or EUR, "
            f"found {fields['currency']!r}",
            "",
            None,
            "currency",
        )
    rag = {k: fields[k] for k in ("rag_green", "rag_amber") if fields.get(k) is not None}
    if rag.get("rag_amber", 0.4) > rag.get("rag_green", 0.7):
        b.report(
            "strategy-wrong-type", "Strategy: the RAG amber threshold is above the green one", "", None, "rag_amber"
        )
    if not objectives:
        b.report("strategy-missing-value", "The strategy has no objectives", "objectives", None, "objectives")
    if not departments:
        b.report("strategy-missing-value", "The strategy has no departments", "departments", None, "departments")

    if any(f.severity.value == "error" for f in b.findings):
        return None, b.findings
    deadline = fields.get("response_deadline")
    closes: Any = fields.get("closes_at")
    strategy = Strategy(
        cycle=str(fields["cycle"]),
        objectives=tuple(objectives),
        departments=tuple(departments),
        periods=fields["periods"],
        company=fields.get("company") or "",
        vision=fields.get("vision") or "",
        mission=fields.get("mission") or "",
        response_deadline=deadline.date() if isinstance(deadline, datetime) else deadline,
        closes_at=closes.date() if isinstance(closes, datetime) else closes,
        contact_name=fields.get("contact_name") or "",
        contact_email=fields.get("contact_email") or "",
        source=source,
        spec=fields.get("spec") or "",
        currency=currency,
        **rag,
    )
    return strategy, b.findings


def _check_tree(b: _Builder, departments: list[Department]) -> None:
    """The org tree's findings: parents that go round in a cycle (the units are then taken as reporting
    to the company, so the strategy is still used), and a unit aligned to its parent's plan without a parent."""
    index = {d.code: i for i, d in reversed(list(enumerate(departments)))}  # the first of a duplicated code
    for cycle in OrgTree.of(departments).cycles:
        if len(cycle) == 1:
            message = f"Department {cycle[0]}: names itself as its parent"
        else:
            message = f"Departments {' → '.join((*cycle, cycle[0]))}: their parents go round in a cycle"
        b.report(
            "parent-cycle",
            f"{message}; {', '.join(cycle)} {'is' if len(cycle) == 1 else 'are'} taken as reporting to the company",
            "departments",
            index[cycle[0]],
            "parent",
        )
    for i, d in enumerate(departments):
        if d.aligns_to == "parent" and not (d.parent or "").strip():
            b.report(
                "aligns-to-without-parent",
                f"Department {d.code}: aligns to its parent's plan but has no parent",
                "departments",
                i,
                "aligns_to",
            )


CURRENCY_CODE = re.compile(r"[A-Z]{3}")  # ISO 4217's shape (USD, EUR, SEK): money formats are built from it


def _header(spec: Spec, key: str) -> str:
    """A strategy field's header as the spec words it (the key if the spec has no such field)."""
    return next((c.header for c in spec.fields if c.key == key), key)


_OPTIONAL_DEP = {"parent", "budget_cap", "headcount_cap"}
_TEXT_OBJ = {"id", "title", "metric", "unit", "owner", "perspective", "description", "direction"}


def _smart(b: _Builder, o: Objective, i: int) -> None:
    if o.baseline is None or o.target is None or o.direction not in ("increase", "decrease"):
        return
    if o.target == o.baseline:
        b.report(
            "target-equals-baseline",
            f"Objective {o.id}: target {o.target:g} equals the baseline",
            "objectives",
            i,
            "target",
        )
    elif not o.moves_right_way(o.baseline, o.target):
        b.report(
            "target-against-direction",
            f"Objective {o.id}: direction is {o.direction} but the target {o.target:g} is "
            f"{'below' if o.direction == 'increase' else 'above'} the baseline {o.baseline:g}",
            "objectives",
            i,
            "target",
        )


def _unique(b: _Builder, ids: list[str], sheet_key: str, label: str) -> None:
    seen: set[str] = set()
    for i, ident in enumerate(ids):
        key = (ident or "").casefold()
        if key and key in seen:
            b.report(
                "duplicate-id",
                f"{label} id {ident!r} is used more than once",
                sheet_key,
                i,
                "id" if sheet_key == "objectives" else "code",
            )
        seen.add(key)


def read_strategy(path: str | Path, spec: Spec | None = None) -> tuple[Strategy | None, list[Finding]]:
    """Load a strategy and check it; never raises for bad content, returns the findings instead."""
    path = Path(path)
    spec = spec or load_spec("strategy")
    try:
        if path.suffix.lower() in (".yaml", ".yml"):
            raw = _from_yaml(path, spec)
        elif path.suffix.lower() in (".xlsx", ".xlsm", ".ods"):
            raw = _from_workbook(path, spec)
        else:
            raise ValueError("expected a .yaml strategy or an .xlsx strategy workbook")
    except FileNotFoundError:
        return None, [Finding("strategy-invalid", "file not found", file=str(path))]
    except YamlSyntaxError as exc:
        return None, [Finding("strategy-invalid", exc.detail, file=str(path))]
    except Exception as exc:  # noqa: BLE001 - any parse failure is reported, never a traceback
        return None, [Finding("strategy-invalid", f"cannot read the strategy: {exc}", file=path.name)]
    return _build(raw, spec, str(path))


def load_strategy(path: str | Path) -> Strategy:
    """Load a strategy, raising StrategyError with every problem when it cannot be used."""
    strategy, findings = read_strategy(path)
    if strategy is None:
        raise StrategyError(findings)
    return strategy
