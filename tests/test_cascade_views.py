"""The master's views of a cascade (issue 20): the Goal Hierarchy traces every initiative through its chain
to its corporate objective, the Cascade sheet shows what each parent initiative's children commit, and
progress flows up the chain from check-ins.

Three levels: COM (aligned to the corporate objectives) -> MKT (aligned to COM's plan) -> WEB (aligned to
MKT's). Rounds generated, filled with openpyxl and reconciled as a person would; then a Q1 check-in from
every unit. Every figure below is worked out by hand from the rows typed.
"""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
import yaml

from cascadebook import generate, load_key, load_strategy, reconcile, write_master
from cascadebook.cycle.cascade_round import generate_cascade
from cascadebook.cycle.checkin import generate_checkins
from cascadebook.intake.dispatch import checkin_spec
from cascadebook.master.cascade_sheet import CASCADE_SHEET, MATRIX_TITLE
from cascadebook.master.read import read_master
from cascadebook.spec.schema import resolve_spec
from conftest import SAMPLE_STRATEGY, clean_initiative, clean_kpi
from fill import fill_workbook

UNITS = [
    ("COM", "Commercial", None, "objectives"),
    ("MKT", "Marketing", "COM", "parent"),
    ("WEB", "Web team", "MKT", "parent"),
]
COM_ROWS = [
    clean_initiative("CO1", "Win enterprise accounts", 60, 72, contribution=12),  # COM-I01: +12
    clean_initiative("CO3", "Brand campaign", 0.48, 0.75, unit="%", contribution=0.27),  # COM-I02: +27 points
]
MKT_ROWS = [
    clean_initiative("COM-I01", "Lead programme", 0, 8, contribution=8, contribution_weight="60%"),  # MKT-I01
    clean_initiative(  # MKT-I02: half for each of COM's initiatives, no contribution stated
        "COM-I01", "Events", 0, 4, objective_split="COM-I01 50% / COM-I02 50%", contribution_weight="40%"
    ),
    clean_initiative("CO6", "Straight to an objective", 31, 35, unit="points"),  # MKT-I03
]
WEB_ROWS = [
    clean_initiative("MKT-I01", "Landing pages", 0, 3, contribution=3),  # WEB-I01: 3 of MKT-I01's 8
    clean_initiative("MKT-I01", "Webinars", 0, 10, contribution=10),  # WEB-I02: with WEB-I01 13 of 8
]
WEB_KPIS = [clean_kpi("WEB-I01", "Page visits")]

# Q1 actuals and the progress they make, by hand.
COM_I02 = (0.60 - 0.48) / (0.75 - 0.48)  # its own actual, 60%
MKT_I02, MKT_I03 = 2 / 4, (33 - 31) / (35 - 31)
WEB_I01, WEB_I02 = 1.5 / 3, 2.5 / 10
MKT_I01 = (WEB_I01 + WEB_I02) / 2  # no actual: its children, no weights typed = equal
COM_I01 = (0.6 * MKT_I01 + 0.5 * 0.4 * MKT_I02) / (0.6 + 0.5 * 0.4)  # link weight x contribution weight


def _strategy(tmp: Path) -> Path:
    data = yaml.safe_load(SAMPLE_STRATEGY.read_text(encoding="utf-8"))
    data["departments"] = [
        {
            "code": code,
            "name": name,
            "head": f"Head of {name}",
            "email": f"{code.lower()}@northwind.example",
            **({"parent": parent} if parent else {}),
            "aligns_to": aligns,
        }
        for code, name, parent, aligns in UNITS
    ]
    path = tmp / "strategy.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("chain")
    path = _strategy(tmp)
    strategy, key = load_strategy(path), load_key(path, create=True)
    spec = resolve_spec(None, strategy)
    returned = tmp / "returned"
    generate(strategy, tmp / "round1", key=key)
    fill_workbook(tmp / "round1" / "FY2027_COM.xlsx", returned / "COM.xlsx", rows={"initiatives": COM_ROWS})
    write_master(reconcile(strategy, [returned], key=key, jobs=1), tmp / "master1.xlsx")
    round2 = generate_cascade(strategy, tmp / "master1.xlsx", tmp / "round2", spec=spec, key=key)
    fill_workbook(round2.written[0], returned / "MKT.xlsx", rows={"initiatives": MKT_ROWS})
    write_master(reconcile(strategy, [returned], key=key, jobs=1), tmp / "master2.xlsx")
    round3 = generate_cascade(strategy, tmp / "master2.xlsx", tmp / "round3", spec=spec, key=key)
    web = next(p for p in round3.written if p.name.endswith("_WEB.xlsx"))
    fill_workbook(web, returned / "WEB.xlsx", rows={"initiatives": WEB_ROWS, "kpis": WEB_KPIS})
    plan = reconcile(strategy, [returned], key=key, jobs=1)
    write_master(plan, tmp / "master3.xlsx")
    made = {
        p.name.split("_")[1]: p
        for p in generate_checkins(strategy, read_master(tmp / "master3.xlsx"), tmp / "q1", "Q1", key=key)
    }
    checkins = tmp / "checkins"
    actuals = {
        "COM": [{}, dict(actual="60%", status="On track")],  # COM-I01 has no actual of its own
        "MKT": [{}, dict(actual=2, status="On track"), dict(actual=33, status="On track")],
        "WEB": [dict(actual=1.5, status="On track"), dict(actual=2.5, status="At risk")],
    }
    for code, rows in actuals.items():
        fill_workbook(made[code], checkins / f"{code}.xlsx", spec=checkin_spec(), rows={"initiatives": rows})
    q1 = reconcile(strategy, [returned, checkins], key=key, jobs=1)
    write_master(q1, tmp / "master_q1.xlsx")
    return dict(tmp=tmp, plan=plan, q1=q1, master=tmp / "master3.xlsx", master_q1=tmp / "master_q1.xlsx")


def _rows(ws, first=1):
    return [[c.value for c in row] for row in ws.iter_rows(min_row=first)]


def test_smoke(chain):
    book = openpyxl.load_workbook(chain["master_q1"])
    print(book.sheetnames)
    for name in ("Goal Hierarchy", CASCADE_SHEET, "Progress"):
        for row in _rows(book[name]):
            print(row)
    assert MATRIX_TITLE
