"""A small four-level organisation for the level-aware commands (issue 20: status, diff, export,
check-ins): company -> COM (MKT -> WEB -> SEO, SAL), OPD (OPS). MKT, WEB and SEO align to their
parent's plan: their initiatives name a parent initiative id (or a split of two) where flat units
name a corporate objective. Built once per test module: one generate, one reconcile, one master."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from cascadebook import generate, load_key, load_strategy, reconcile, write_master
from conftest import clean_initiative, clean_kpi
from fill import fill_workbook
from org_strategy import write_org_strategy

UNITS = [  # code, name, parent, aligns_to
    ("COM", "Commercial", None, "objectives"),
    ("OPD", "Operations division", None, "objectives"),
    ("SAL", "Sales", "COM", "objectives"),
    ("MKT", "Marketing", "COM", "parent"),
    ("OPS", "Operations", "OPD", "objectives"),
    ("WEB", "Web team", "MKT", "parent"),
    ("SEO", "Search team", "WEB", "parent"),
]
LEVELS = {"COM": 1, "OPD": 1, "SAL": 2, "MKT": 2, "OPS": 2, "WEB": 3, "SEO": 4}

# unit -> its initiatives (what it aligns to, title[, split]); OPD does not return, WEB returns with an error
RETURNS = {
    "COM": [("CO1", "Key account push"), ("CO3", "Brand relaunch")],
    "MKT": [("COM-I01", "Campaign"), ("COM-I01", "Events", "COM-I01 60% / COM-I02 40%")],
    "WEB": [("MKT-I01", "New site")],
    "SEO": [("WEB-I01", "Search ranking")],
    "SAL": [("CO1", "Northeast reps")],
    "OPS": [("CO5", "Depot")],
}


def strategy_yaml(folder: Path, units=UNITS) -> Path:
    return write_org_strategy(folder, units)


@dataclasses.dataclass
class Cycle:
    folder: Path
    strategy_path: Path
    strategy: object
    key: bytes
    templates: dict[str, Path]
    returned: Path
    master: Path | None


def build_cycle(folder: Path, returns=RETURNS, errors=("WEB",), master: bool = True, kpi_on=None) -> Cycle:
    """Templates for every unit, the returns typed in with openpyxl, reconciled into a master (unless not
    ``master``: status reconciles by itself). Each unit's KPI is on its first initiative, or on the one
    ``kpi_on`` (unit -> initiative id) says."""
    strategy_path = strategy_yaml(folder)
    strategy, key = load_strategy(strategy_path), load_key(strategy_path, create=True)
    paths = generate(strategy, folder / "outbox", key=key, generated_at="2027-01-04T09:00:00+00:00")
    templates = {p.stem.split("_")[-1]: p for p in paths}
    returned = folder / "returned"
    for code, rows in returns.items():
        initiatives = [
            clean_initiative(row[0], row[1], 1, 5, **({"objective_split": row[2]} if len(row) > 2 else {}))
            for row in rows
        ]
        if code in errors:
            initiatives[0]["target"] = "ten"  # an error: returned with errors
        kpis = [clean_kpi((kpi_on or {}).get(code, f"{code}-I01"), f"{code} reach")]
        fill_workbook(templates[code], returned / f"{code}.xlsx", rows={"initiatives": initiatives, "kpis": kpis})
    written = None
    if master:
        result = reconcile(strategy, [returned], key=key, jobs=1)
        result = dataclasses.replace(result, generated_at="2027-02-10T09:00:00+00:00")
        written = write_master(result, folder / "master.xlsx")
    return Cycle(folder, strategy_path, strategy, key, templates, returned, written)
