"""Benchmark corpus: N filled, signed department returns of a synthetic strategy.

    python benchmarks/make_corpus.py --n 1000 [--jobs 2] [--method hook|openpyxl] [--force]
    python benchmarks/make_corpus.py --n 2000 --levels 4     the cascade: units over four levels

With ``--levels L`` (L > 1) the N units form an org tree under the company (``tree_shape``): level 1
aligns to the corporate objectives, every deeper unit ``aligns_to: parent`` and types its parent's
initiative ids (in the parent initiative's unit and direction) where a flat unit types an objective
id. Such a corpus lives in ``benchmarks/corpus/<N>-levels<L>/``; the flat one is unchanged.

Layout (cached, rebuilt when ``CORPUS_VERSION`` or the method changes)::

    benchmarks/corpus/<N>/strategy.yaml      N departments D0001.., 8 objectives CO1..CO8
    benchmarks/corpus/<N>/.cascadebook-key   the (public, benchmark-only) signing key
    benchmarks/corpus/<N>/returns/*.xlsx     one filled return per department
    benchmarks/corpus/<N>/manifest.json      version, method, counts, build time (written last)

Each department answers ~40 initiatives and ~80 KPIs with realistic text, numbers and periods,
typing ids past the prefilled ones as people do, plus the usual mistakes in some workbooks: text
numbers ("1,200,000", "$250k"), a percent typed as text ("15%"), a blank required cell, an
unknown objective id (CO9), a period written "Q3 2027", a KPI target "TBD", a missing id.

How a return is written (``--method``; measured, see benchmarks/README.md):

* ``prefill`` (default when the library has it): ``write_template(..., prefill=rows)``, the
  library's own way to write a template with values in its input cells (ids kept, every format,
  validation, live-check formula with its cached result, the hidden metadata sheet and a valid
  signature): what Excel would save after the department typed, so reconcile identifies it as a
  real signed return. ~0.12 s per file here.
* ``hook``: plain ``write_template``, with the values typed into its xlsxwriter book just before
  it is closed (keeping each cell's template format); the live-check cells keep empty cached
  results. For library versions without ``prefill``; about as fast.
* ``openpyxl``: ``write_template`` then ``fill.fill_workbook`` (open with openpyxl,
  type, save), as samples/make_samples.py does: ~3x slower (~0.35 s per file), hours of CPU at
  N=10,000. Kept as the reference the others are checked against (``--check K``).

In every method ``set_properties`` is wrapped to stamp a realistic "last saved" time.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import yaml

CORPUS_VERSION = 2
HERE = Path(__file__).resolve().parent
CORPUS_ROOT = HERE / "corpus"
CYCLE = "FY2027"
GENERATED_AT = "2027-01-04T09:00:00+00:00"
# Public, benchmark-only key: the corpus is synthetic and never leaves this folder.
BENCH_KEY = "b3nchmark0000000000000000000000000000000000000000000000000000000"
METHODS = ("prefill", "hook", "openpyxl")

OBJECTIVES = [
    (
        "CO1",
        "Increase enterprise customer acquisition by 20%",
        "Customer",
        "New enterprise customers",
        "count",
        60,
        72,
        "increase",
    ),
    (
        "CO2",
        "Increase market share in the Northeast region by 8%",
        "Financial",
        "Northeast market share",
        "%",
        0.12,
        0.20,
        "increase",
    ),
    (
        "CO3",
        "Achieve 75% brand awareness among target enterprises",
        "Customer",
        "Aided brand awareness",
        "%",
        0.48,
        0.75,
        "increase",
    ),
    ("CO4", "Grow revenue to $180M", "Financial", "Annual revenue", "USD", 150_000_000, 180_000_000, "increase"),
    (
        "CO5",
        "Reduce average delivery time by 20%",
        "Internal process",
        "Order-to-delivery time",
        "days",
        10,
        8,
        "decrease",
    ),
    ("CO6", "Raise customer satisfaction (NPS) to 45", "Customer", "Net Promoter Score", "points", 31, 45, "increase"),
    (
        "CO7",
        "Lift employee engagement index to 80",
        "Learning & growth",
        "Engagement index",
        "points",
        68,
        80,
        "increase",
    ),
    (
        "CO8",
        "Cut unplanned downtime by a third",
        "Internal process",
        "Unplanned downtime",
        "hours",
        1200,
        800,
        "decrease",
    ),
]
AREAS = [
    "Marketing",
    "Sales",
    "Operations",
    "Logistics",
    "Finance",
    "Human Resources",
    "Research",
    "Quality",
    "Customer Success",
    "Procurement",
    "IT",
    "Legal",
    "Facilities",
    "Product",
    "Engineering",
    "Support",
]
REGIONS = ["North", "South", "East", "West", "Central", "Northeast", "Albany", "Boston", "Hartford", "Online"]
FIRST = [
    "Priya",
    "Marcus",
    "Elena",
    "Tomasz",
    "Grace",
    "Liam",
    "Sofia",
    "Ben",
    "Jonah",
    "Mia",
    "Ana",
    "Ravi",
    "Kai",
    "Lena",
    "Hugo",
    "Aiko",
    "Omar",
    "Noah",
    "Zoe",
    "Ivan",
    "Fatima",
    "Chen",
    "Lucas",
    "Nadia",
]
LAST = [
    "Raman",
    "Bell",
    "Novak",
    "Wojcik",
    "Okafor",
    "O'Connor",
    "Lind",
    "Carter",
    "Avery",
    "Torres",
    "Duarte",
    "Shah",
    "Jensen",
    "Fischer",
    "Martin",
    "Tanaka",
    "Haddad",
    "Price",
    "Meyer",
    "Petrov",
    "Khan",
    "Wei",
]
VERBS = [
    "Launch",
    "Restructure",
    "Automate",
    "Expand",
    "Optimise",
    "Consolidate",
    "Pilot",
    "Roll out",
    "Renegotiate",
    "Standardise",
    "Digitise",
    "Outsource",
    "Retrain",
    "Introduce",
    "Redesign",
]
THINGS = [
    "the enterprise onboarding process",
    "quarterly business reviews with top accounts",
    "a partner referral programme",
    "order processing in the ERP",
    "the returns workflow",
    "supplier contracts for key components",
    "a customer health score",
    "the pricing of top SKUs",
    "an account-based campaign on 50 key accounts",
    "preventive maintenance on line 3",
    "a mentoring programme for new managers",
    "self-service support articles",
    "the regional distribution centre",
    "solution selling for the enterprise team",
    "thought-leadership content in the Northeast",
    "the graduate hiring pipeline",
]
IMPACTS = [
    "Close rate from {b}% to {t}%",
    "{t} qualified enterprise leads",
    "Delivery time from {b} to {t} days",
    "NPS +{d} points",
    "Gross margin +{d} points",
    "{t} accounts with an engaged buying group",
    "Downtime down to {t} hours",
    "Engagement index {b} to {t}",
]
METRICS = [
    "Close rate",
    "Qualified leads",
    "Delivery time",
    "NPS",
    "Gross margin",
    "Engaged accounts",
    "Downtime hours",
    "Engagement index",
    "Orders per FTE",
    "Cost per lead",
]
UNITS = ["%", "count", "currency", "days", "hours", "points", "ratio", "score"]
TEAMS = [
    "Demand generation",
    "Key accounts",
    "Order desk",
    "Quality",
    "Platform",
    "FP&A",
    "Talent",
    "Field ops",
    "Content",
    "Performance marketing",
    "Embedded",
    "Logistics",
]
KPI_NAMES = [
    "{m} per quarter",
    "{m} per month",
    "Share of {m} on target",
    "{m} at quarter end",
    "Average {m}",
    "{m} reviewed with the head",
]
NOTES = [
    "",
    "",
    "",
    "Depends on the ERP upgrade going live",
    "Budget split across Q2 and Q3",
    "Shared with {a}",
    "Hiring freeze may delay this",
    "Vendor shortlist due 2027-02-15",
]


# objective -> (the initiative unit that matches it, a typical contribution of one initiative)
OBJECTIVE_UNITS = {
    "CO1": ("count", 1),
    "CO2": ("%", 0.001),
    "CO3": ("%", 0.002),
    "CO4": ("currency", 200_000),
    "CO5": ("days", 0.05),
    "CO6": ("points", 0.3),
    "CO7": ("points", 0.2),
    "CO8": ("hours", 5),
}


def department_code(i: int) -> str:
    return f"D{i:04d}"


def tree_shape(n: int, levels: int = 1) -> dict[int, int | None]:
    """Unit index -> its parent's index (None under the company), for ``n`` units over ``levels`` levels.

    The fan-out f is the smallest with f + f^2 + ... + f^levels >= n; level k holds f^k units, the last
    level the rest, numbered level by level, and the children of a level are dealt round its units (so
    N=2,000 over 4 levels is 7 divisions, 49, 343, then 1,601 teams of ~4.7 per parent)."""
    if levels <= 1:
        return dict.fromkeys(range(1, n + 1))
    fan = 1
    while sum(fan**k for k in range(1, levels + 1)) < n:
        fan += 1
    while fan > 1 and sum(fan**k for k in range(1, levels)) >= n:  # a tiny n still has a unit at the last level
        fan -= 1
    sizes = [fan**k for k in range(1, levels)]
    sizes.append(n - sum(sizes))
    parent: dict[int, int | None] = {}
    first, previous = 1, None  # first index of this level; (first, size) of the level above
    for size in sizes:
        for j in range(size):
            parent[first + j] = None if previous is None else previous[0] + j % previous[1]
        previous, first = (first, size), first + size
    return parent


def strategy_document(n: int, levels: int = 1) -> dict[str, Any]:
    rng = random.Random(20270104)
    tree = tree_shape(n, levels)
    departments = []
    for i in range(1, n + 1):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        unit = {
            "code": department_code(i),
            "name": f"{rng.choice(AREAS)} {rng.choice(REGIONS)} {i}",
            "head": f"{first} {last}",
            "email": f"{first.lower()}.{last.lower().replace(chr(39), '')}{i}@northwind.example",
        }
        if tree[i] is not None:
            unit.update(parent=department_code(tree[i]), aligns_to="parent")
        departments.append(unit)
    return {
        "cycle": CYCLE,
        "company": "Northwind Components",
        "vision": "To be the supplier of choice for enterprise manufacturers across the Northeast.",
        "mission": "We help manufacturers build better products faster with reliable components and service.",
        "periods": ["Q1", "Q2", "Q3", "Q4"],
        "response_deadline": "2027-01-29",
        "contact_name": "Dana Whitfield, Strategy Office",
        "contact_email": "strategy@northwind.example",
        "objectives": [
            {
                "id": oid,
                "title": title,
                "perspective": persp,
                "metric": metric,
                "unit": unit,
                "baseline": base,
                "target": target,
                "direction": direction,
                "deadline": "2027-12-31",
                "owner": "Executive team",
                "weight": 0.125,
            }
            for oid, title, persp, metric, unit, base, target, direction in OBJECTIVES
        ],
        "departments": departments,
    }


def _person(rng: random.Random) -> str:
    return f"{rng.choice(FIRST)} {rng.choice(LAST)}"


def department_rows(
    code: str,
    index: int,
    spec,
    objective_ids: list[str],
    directions: dict[str, str],
    periods: list[str],
    parent: tuple[str, list[dict[str, Any]]] | None = None,
) -> tuple[dict[str, list[dict[str, Any]]], list[str]]:
    """What one department types: ~40 initiatives, ~80 KPIs, and this department's mistakes.

    ``parent`` = (its code, its initiatives) for a unit aligned to its parent's plan: each row then names
    one of the parent's initiatives, in that initiative's unit and direction, and contributes a share of
    its change (a flat unit's rows draw exactly what they drew before)."""
    rng = random.Random(index * 7919 + 17)
    initiatives_sheet, kpis_sheet = spec.sheet("initiatives"), spec.sheet("kpis")
    n_init = rng.randint(36, 44)
    initiatives = []
    for k in range(1, n_init + 1):
        if parent is None:
            objective = rng.choice(objective_ids)
            up = directions[objective] != "decrease"
            unit, scale = OBJECTIVE_UNITS[objective]
        else:
            parent_code, parent_rows = parent
            chosen = rng.randrange(len(parent_rows))
            objective = initiatives_sheet.make_id(parent_code, chosen + 1)
            up = parent_rows[chosen]["target"] >= parent_rows[chosen]["baseline"]
            unit = parent_rows[chosen]["unit"]
            scale = abs(parent_rows[chosen]["target"] - parent_rows[chosen]["baseline"]) / 6 or 1
        base = rng.choice([rng.randint(5, 400), round(rng.uniform(0.05, 0.6), 2)])
        step = base * rng.uniform(0.05, 0.4) or 1
        target = round(base + step if up else base - step, 2)
        b, t = (round(base * 100) if base < 1 else base), (round(target * 100) if target < 1 else target)
        row = {
            "objective_id": objective,
            "title": f"{rng.choice(VERBS)} {rng.choice(THINGS)}",
            "expected_impact": rng.choice(IMPACTS).format(b=b, t=t, d=rng.randint(1, 9)),
            "metric": rng.choice(METRICS),
            "unit": unit if rng.random() < 0.8 else rng.choice(UNITS),
            "baseline": base,
            "target": target,
            "due_period": rng.choice(periods),
            "owner": _person(rng),
            "budget": rng.randrange(10_000, 2_500_000, 5_000),
            "headcount": rng.randint(0, 8),
            "contribution_weight": round(rng.uniform(0.05, 0.6), 2),
            "notes": rng.choice(NOTES).format(a=rng.choice(AREAS)),
            # the share of the objective's change this initiative claims, in the objective's unit and direction
            "contribution": round(rng.uniform(0.2, 3) * scale * (1 if up else -1), 4),
            "objective_split": None,  # one objective per initiative (the split column is for the rare shared one)
        }
        if k > initiatives_sheet.prefilled_rows:  # people continue the id pattern below the prefilled ones
            row["id"] = initiatives_sheet.make_id(code, k)
        initiatives.append(row)
    ids = [initiatives_sheet.make_id(code, k) for k in range(1, n_init + 1)]
    kpis = []
    for k in range(1, 2 * n_init + 1):
        row = {
            "initiative_id": ids[(k - 1) // 2],
            "level": "Team" if k % 2 else "Individual",
            "team": rng.choice(TEAMS),
            "owner": _person(rng),
            "name": rng.choice(KPI_NAMES).format(m=rng.choice(METRICS).lower()),
            "unit": rng.choice(UNITS),
            "baseline": rng.randint(0, 50),
            "target": rng.randint(51, 200),
            "frequency": rng.choice(["Weekly", "Monthly", "Quarterly", "Annually"]),
            "due_period": rng.choice(periods),
        }
        if k > kpis_sheet.prefilled_rows:
            row["id"] = kpis_sheet.make_id(code, k)
        kpis.append(row)

    mistakes = []
    if rng.random() < 0.5:
        initiatives[rng.randrange(n_init)]["budget"] = rng.choice(["1,200,000", "$250k", "1.200.000", "1,200"])
        mistakes.append("text-number")
    if rng.random() < 0.3:
        initiatives[rng.randrange(n_init)]["contribution_weight"] = rng.choice(["15%", "20 %", "0,25"])
        mistakes.append("text-percent")
    if rng.random() < 0.3:
        initiatives[rng.randrange(n_init)]["owner"] = None
        mistakes.append("blank-required")
    if rng.random() < 0.2:
        initiatives[rng.randrange(n_init)]["objective_id"] = "CO9"
        mistakes.append("unknown-objective")
    if rng.random() < 0.2:
        kpis[rng.randrange(len(kpis))]["due_period"] = "Q3 2027"
        mistakes.append("period-with-year")
    if rng.random() < 0.15:
        kpis[rng.randrange(len(kpis))]["target"] = rng.choice(["TBD", "forty", "n/a"])
        mistakes.append("target-not-a-number")
    if rng.random() < 0.1:
        kpis[-1].pop("id", None)
        mistakes.append("missing-id")
    rows = {"initiatives": initiatives, "kpis": kpis}
    for sheet in spec.sheets:  # a column added to the spec gets plausible values too
        for col in sheet.input_columns:
            for item in rows.get(sheet.key, ()):
                if col.key not in item:
                    item[col.key] = _generic(col, rng, periods)
    return rows, mistakes


def _generic(col, rng: random.Random, periods: list[str]) -> Any:
    if col.type in ("number", "currency", "integer"):
        return rng.randint(0, 1000)
    if col.type == "percent":
        return round(rng.random(), 2)
    if col.type == "date":
        return datetime(2027, 1, 1) + timedelta(days=rng.randrange(365))
    if col.type == "period":
        return rng.choice(periods)
    if col.type == "choice":
        return rng.choice(col.choices)
    if col.type == "boolean":
        return rng.choice(["Yes", "No"])
    return f"{col.header} {rng.randint(1, 99)}"


# -- writing ---------------------------------------------------------------------------------


def _write_cells(book, spec, rows: dict[str, list[dict[str, Any]]]) -> None:
    """Type the values into the template's xlsxwriter book, keeping each cell's template format."""
    from cascadebook.template.department import HEADER_ROW

    for sheet in spec.sheets:
        ws = book.get_worksheet_by_name(sheet.title)
        positions = {col.key: c for c, col in enumerate(sheet.columns)}
        table = getattr(ws, "table", {})
        for r, item in enumerate(rows.get(sheet.key, ()), HEADER_ROW):  # 0-based first data row
            cells = table.get(r, {})
            for key, value in item.items():
                if value is None or value == "":
                    continue
                c = positions[key]
                fmt = getattr(cells.get(c), "format", None)
                if isinstance(value, str):
                    ws.write_string(r, c, value, fmt)
                elif isinstance(value, datetime):
                    ws.write_datetime(r, c, value, fmt)
                else:
                    ws.write_number(r, c, value, fmt)


class _HookedXlsxwriter:
    """Stands in for the ``xlsxwriter`` module inside cascadebook.template.department for one call."""

    def __init__(self, before_close: Callable[[Any], None], saved_at: datetime):
        import xlsxwriter

        self._real = xlsxwriter
        self._before_close = before_close
        self._saved_at = saved_at
        self.called = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def Workbook(self, *args, **kwargs):
        book = self._real.Workbook(*args, **kwargs)
        close, set_properties = book.close, book.set_properties

        def hooked_close():
            self._before_close(book)
            self.called = True
            return close()

        def hooked_properties(props):  # the "last saved" stamp reconcile uses for newest-wins
            return set_properties({**props, "created": self._saved_at})

        book.close, book.set_properties = hooked_close, hooked_properties
        return book


def write_return_hook(strategy, department, spec, key: bytes, rows, path: Path, saved_at: datetime) -> Path:
    from cascadebook.template import department as templates

    hooked = _HookedXlsxwriter(lambda book: _write_cells(book, spec, rows), saved_at)
    real = templates.xlsxwriter
    templates.xlsxwriter = hooked
    try:
        templates.write_template(strategy, department, path, spec=spec, key=key, generated_at=GENERATED_AT)
    finally:
        templates.xlsxwriter = real
    if not hooked.called:
        raise RuntimeError(
            "cascadebook.template.department no longer builds its book through xlsxwriter.Workbook; "
            "use --method openpyxl (and update benchmarks/make_corpus.py)"
        )
    return path


def write_return_openpyxl(strategy, department, spec, key: bytes, rows, path: Path, saved_at: datetime) -> Path:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the tests' fill helper
    from cascadebook.template.department import write_template
    from fill import fill_workbook

    with tempfile.TemporaryDirectory() as tmp:
        template = write_template(
            strategy, department, Path(tmp) / "template.xlsx", spec=spec, key=key, generated_at=GENERATED_AT
        )
        # fill_workbook types from the first data row down, keeping a row's prefilled id unless given
        return fill_workbook(template, path, rows=rows, spec=spec, saved_at=saved_at)


def write_return_prefill(strategy, department, spec, key: bytes, rows, path: Path, saved_at: datetime) -> Path:
    from cascadebook.template import department as templates

    hooked = _HookedXlsxwriter(lambda book: None, saved_at)  # only to stamp the "last saved" time
    real = templates.xlsxwriter
    templates.xlsxwriter = hooked
    try:
        templates.write_template(
            strategy, department, path, spec=spec, key=key, generated_at=GENERATED_AT, prefill=rows
        )
    finally:
        templates.xlsxwriter = real
    return path


def prefill_supported() -> bool:
    import inspect

    from cascadebook.template.department import write_template

    return "prefill" in inspect.signature(write_template).parameters


def template_digest() -> str:
    """Identifies the library's template (a blank one for a fixed department): a corpus built from
    another template is rebuilt."""
    import hashlib
    import zipfile

    from cascadebook import load_spec
    from cascadebook.model import Department, Objective, Strategy
    from cascadebook.template.department import write_template

    strategy = Strategy(
        CYCLE,
        (Objective("CO1", "Objective", metric="m", baseline=1, target=2),),
        (Department("D0001", "Department 1", "Head"),),
    )
    digest = hashlib.sha256()
    with tempfile.TemporaryDirectory() as tmp:
        path = write_template(
            strategy,
            strategy.departments[0],
            Path(tmp) / "t.xlsx",
            spec=load_spec("department"),
            key=BENCH_KEY.encode(),
            generated_at=GENERATED_AT,
        )
        with zipfile.ZipFile(path) as z:
            for info in sorted(z.infolist(), key=lambda i: i.filename):
                digest.update(info.filename.encode() + b"\0" + z.read(info) + b"\0")
    return digest.hexdigest()[:16]


WRITERS = {"prefill": write_return_prefill, "hook": write_return_hook, "openpyxl": write_return_openpyxl}

# -- the pool --------------------------------------------------------------------------------

_STATE: dict[str, Any] = {}


def _init_worker(strategy_path: str, method: str) -> None:
    from cascadebook import load_spec, load_strategy

    strategy = load_strategy(strategy_path)
    _rows_of.cache_clear()
    _STATE.update(
        index={d.code: i for i, d in enumerate(strategy.departments, 1)},
        strategy=strategy,
        spec=load_spec("department"),
        method=method,
        departments={d.code: d for d in strategy.departments},
        objective_ids=[o.id for o in strategy.objectives],
        directions={o.id: o.direction for o in strategy.objectives},
        periods=list(strategy.periods),
    )


@functools.lru_cache(maxsize=1024)
def _rows_of(index: int) -> tuple[dict[str, list[dict[str, Any]]], list[str]]:
    """A unit's rows, made after its parent's (cached: a parent's rows serve all its children)."""
    s, code = _STATE, department_code(index)
    unit = s["departments"][code]
    parent = None
    if unit.aligns_to == "parent" and unit.parent:
        parent = (unit.parent, _rows_of(s["index"][unit.parent])[0]["initiatives"])
    return department_rows(code, index, s["spec"], s["objective_ids"], s["directions"], s["periods"], parent)


def _write_one(args: tuple[int, str]) -> tuple[str, list[str], int]:
    index, out_dir = args
    code = department_code(index)
    s = _STATE
    rows, mistakes = _rows_of(index)
    saved_at = datetime(2027, 1, 10, 8, 0) + timedelta(minutes=(index * 37) % (20 * 24 * 60))
    path = Path(out_dir) / f"{CYCLE}_{code}.xlsx"
    WRITERS[s["method"]](s["strategy"], s["departments"][code], s["spec"], BENCH_KEY.encode(), rows, path, saved_at)
    return code, mistakes, sum(len(v) for v in rows.values())


def corpus_dir(n: int, root: Path = CORPUS_ROOT, levels: int = 1) -> Path:
    return root / (str(n) if levels <= 1 else f"{n}-levels{levels}")


def read_manifest(directory: Path) -> dict | None:
    try:
        return json.loads((directory / "manifest.json").read_text())
    except (OSError, ValueError):
        return None


def make_corpus(
    n: int,
    *,
    jobs: int | None = None,
    method: str | None = None,
    force: bool = False,
    root: Path = CORPUS_ROOT,
    log: Callable[[str], None] | None = print,
    levels: int = 1,
) -> Path:
    """Build (or reuse) the corpus of ``n`` returns (over ``levels`` levels of an org tree); returns its folder."""
    method = method or ("prefill" if prefill_supported() else "hook")
    directory = corpus_dir(n, root, levels)
    manifest = read_manifest(directory)
    digest = template_digest()
    if (
        not force
        and manifest
        and manifest.get("version") == CORPUS_VERSION
        and manifest.get("n") == n
        and manifest.get("method") == method
        and manifest.get("levels", 1) == levels
        and manifest.get("template") == digest
        and len(list((directory / "returns").glob("*.xlsx"))) == n
    ):
        if log:
            log(
                f"corpus {directory} is up to date ({n} returns, {levels} level(s), v{CORPUS_VERSION}, {method}, template {digest})"
            )
        return directory
    if directory.exists():
        shutil.rmtree(directory)
    returns = directory / "returns"
    returns.mkdir(parents=True)
    strategy_path = directory / "strategy.yaml"
    strategy_path.write_text(yaml.safe_dump(strategy_document(n, levels), sort_keys=False, width=200), encoding="utf-8")
    (directory / ".cascadebook-key").write_text(BENCH_KEY + "\n", encoding="ascii")
    jobs = max(1, min(jobs or os.cpu_count() or 1, n))
    started = time.perf_counter()
    tasks = [(i, str(returns)) for i in range(1, n + 1)]
    mistakes: dict[str, int] = {}
    rows = 0
    if jobs == 1:
        _init_worker(str(strategy_path), method)
        results = map(_write_one, tasks)
        pool = None
    else:
        pool = get_context("fork" if sys.platform.startswith("linux") else "spawn").Pool(
            jobs, _init_worker, (str(strategy_path), method)
        )
        results = pool.imap_unordered(_write_one, tasks, chunksize=max(1, min(64, n // (jobs * 8) or 1)))
    try:
        for done, (_, found, count) in enumerate(results, 1):
            rows += count
            for m in found:
                mistakes[m] = mistakes.get(m, 0) + 1
            if log and (done % 500 == 0 or done == n):
                log(f"  {done}/{n} returns ({time.perf_counter() - started:.1f} s)")
    finally:
        if pool is not None:
            pool.close()
            pool.join()
    seconds = time.perf_counter() - started
    manifest = {
        "version": CORPUS_VERSION,
        "n": n,
        **({"levels": levels} if levels > 1 else {}),
        "method": method,
        "template": digest,
        "jobs": jobs,
        "seconds": round(seconds, 2),
        "rows": rows,
        "departments_with": dict(sorted(mistakes.items())),
        "bytes": sum(p.stat().st_size for p in returns.glob("*.xlsx")),
        "built_at": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
    }
    (directory / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    if log:
        log(
            f"corpus {directory}: {n} returns, {rows} rows, {manifest['bytes'] / 1e6:.1f} MB in {seconds:.1f} s "
            f"({method}, {jobs} job(s))"
        )
    return directory


def check_methods(k: int = 5) -> None:
    """Build k returns both ways and show that reconcile reads the same thing from each."""
    from cascadebook import load_key, load_strategy, reconcile

    with tempfile.TemporaryDirectory() as tmp:
        results = {}
        for method in [m for m in METHODS if m != "prefill" or prefill_supported()]:
            started = time.perf_counter()
            directory = make_corpus(k, jobs=1, method=method, root=Path(tmp) / method, log=None)
            per_file = (time.perf_counter() - started) / k
            strategy_path = directory / "strategy.yaml"
            result = reconcile(
                load_strategy(strategy_path), [directory / "returns"], key=load_key(strategy_path), jobs=1
            )
            records = {s: [(r.department, r.row, dict(r.values)) for r in rows] for s, rows in result.records.items()}
            findings = sorted((f.code, f.file, f.sheet, f.cell) for f in result.findings)
            results[method] = (records, findings)
            print(
                f"{method:9} {per_file * 1000:6.0f} ms/return  accepted={len(result.accepted())}/{k}  "
                f"rows={sum(len(v) for v in records.values())}  findings={len(findings)}"
            )
        same = all(r == results["openpyxl"] for r in results.values())
        print("reconcile reads the same records and findings from each:", "yes" if same else "NO")
        if not same:
            raise SystemExit(1)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, action="append", help="number of returns (repeatable)")
    parser.add_argument("--jobs", type=int, default=None, help="worker processes [default: cores]")
    parser.add_argument(
        "--method",
        choices=METHODS,
        default=None,
        help="how returns are written [default: prefill when write_template has it, else hook]",
    )
    parser.add_argument("--levels", type=int, default=1, help="units over this many levels of an org tree [1: flat]")
    parser.add_argument("--force", action="store_true", help="rebuild even if cached")
    parser.add_argument("--root", type=Path, default=CORPUS_ROOT, help="corpus root folder")
    parser.add_argument("--check", type=int, metavar="K", help="compare both methods on K returns and exit")
    args = parser.parse_args(argv)
    if args.check:
        check_methods(args.check)
        return
    for n in args.n or [200]:
        make_corpus(n, jobs=args.jobs, method=args.method, force=args.force, root=args.root, levels=args.levels)


if __name__ == "__main__":
    main()
