"""Progress at every level of the four-level cascade (issue 20), against figures worked out by hand.

The plan is test_cascade_four_levels's (company -> 3 divisions -> 8 departments -> 20 teams, one initiative
per unit, no contribution weights typed). A Q1 check-in is made for every unit; half the teams type an
actual, as their heads would, and one department (OPS) types its own, which wins over its teams'. Every
other initiative takes its progress from the initiatives aligned to it: the mean of those that reported
(link weight 1 each, no contribution weights: all equal), level by level. The objectives count only the
chain tops (the divisions, FIN and HR), so nothing is counted twice.
"""

from __future__ import annotations

import openpyxl
import pytest

from cascadebook import load_key, reconcile, write_master
from cascadebook.cycle.checkin import generate_checkins
from cascadebook.intake.dispatch import checkin_spec
from cascadebook.master.read import read_master
from fill import fill_workbook
from test_cascade_four_levels import TEAMS, UNITS, cascade  # noqa: F401  (cascade: the module fixture)

# Q1 actuals typed, by unit: every team's initiative runs from 0 to its contribution (TEAMS), OPS-I01 0 -> 4.
ACTUALS = {
    "DIG": 1,  # 1 of 2: 50%
    "CNT": 1,  # 1 of 1: 100%
    "ENT": 0.5,  # 0.5 of 2: 25%
    "LOG": 2,  # 2 of 2: 100%  } OPS's teams: 50% between them, but OPS types its own
    "WHS": 0,  # 0 of 1: 0%    }
    "OPS": 1,  # the department's own actual: 1 of 4, 25%
    "EMB": 1,  # 1 of 2: 50%
    "PLT": 3,  # 3 of 2: 150% of the way, capped to 100%
    "QCT": 0,  # 0 of 1: 0% (a zero is progress reported, not a blank)
    "FPA": 1,  # 1 of 2: 50%
    "TAL": 2,  # 2 of 3: 66.7%
}
BLANK = ["ONB"]  # returns its check-in with a status and no actual: not counted (not as 0)
# EVT, INS, KEY, SUP, WHS's sibling PLN, LAB, AUD, TAX, LRN and the other units send nothing.

# The progress each initiative makes, by hand.
TEAM = {"DIG": 0.5, "CNT": 1.0, "ENT": 0.25, "LOG": 1.0, "WHS": 0.0, "EMB": 0.5, "PLT": 1.0, "QCT": 0.0}
TEAM |= {"FPA": 0.5, "TAL": 2 / 3}
DEPARTMENT = {  # (progress, from how many children; 0 = its own actual)
    "MKT": ((0.5 + 1.0) / 2, 2),  # DIG, CNT (EVT silent)
    "SAL": (0.25, 1),  # ENT (INS, KEY silent)
    "CSU": (None, 0),  # ONB blank, SUP silent: nothing to take
    "OPS": (0.25, 0),  # its own 25%, not its teams' (1.0 + 0.0) / 2 = 50%
    "RND": ((0.5 + 1.0) / 2, 2),  # EMB, PLT capped (LAB silent)
    "QUA": (0.0, 1),  # QCT's zero (AUD silent)
    "FIN": (0.5, 1),  # FPA (TAX silent)
    "HR": (2 / 3, 1),  # TAL (LRN silent)
}
COM_I01 = (0.75 + 0.25) / 2  # MKT, SAL (CSU has none): 50%
OPD_I01 = (0.25 + 0.75 + 0.0) / 3  # OPS (own), RND, QUA: 33.3%
DIVISION = {"COM": (COM_I01, 2), "OPD": (OPD_I01, 3), "CRP": (None, 0)}  # CRP: no actual, nothing aligned to it
OBJECTIVE = {  # chain tops only: (progress, coverage)
    "CO1": (COM_I01, "1 of 1"),
    "CO6": (OPD_I01, "1 of 1"),
    "CO7": ((0.5 + 2 / 3) / 2, "2 of 3"),  # FIN-I01, HR-I01; CRP-I01 has no progress
}
# the company: the objectives that have progress, by their weights in samples/strategy.yaml (CO1 0.2,
# CO6 and CO7 0.1 each; CO2-CO5 have no initiative here)
COMPANY = (0.2 * COM_I01 + 0.1 * OPD_I01 + 0.1 * OBJECTIVE["CO7"][0]) / 0.4


@pytest.fixture(scope="module")
def q1(cascade):
    tmp, strategy = cascade["tmp"], cascade["result"].strategy
    key = load_key(tmp / "strategy.yaml")  # made by the plan's rounds, beside the strategy
    master = read_master(tmp / "master3.xlsx")
    made = {p.name.split("_")[1]: p for p in generate_checkins(strategy, master, tmp / "q1", "Q1", key=key)}
    checkins = tmp / "checkins"
    typed = {code: dict(actual=value, status="On track") for code, value in ACTUALS.items()}
    typed |= {code: dict(status="At risk", comment="nothing to count yet") for code in BLANK}
    for code, row in typed.items():
        fill_workbook(made[code], checkins / f"{code}.xlsx", spec=checkin_spec(), rows={"initiatives": [row]})
    result = reconcile(strategy, [tmp / "returned", checkins], key=key, jobs=1)
    write_master(result, tmp / "master_q1.xlsx")
    return dict(made=made, result=result, master=tmp / "master_q1.xlsx")


def test_a_check_in_is_made_for_every_unit_and_the_reporting_ones_are_taken(q1):
    assert sorted(q1["made"]) == sorted(UNITS)
    result = q1["result"]
    assert result.progress.periods == ("Q1",)
    errors = [(f.code, f.department, f.cell) for f in result.findings if f.severity == "error"]
    assert errors == []
    # PLT's 3 of 2 is said, not hidden; ONB's blank actual is missing, not zero
    capped = [(f.department, f.message) for f in result.findings if f.code == "progress-capped"]
    assert capped == [("PLT", "PLT-I01: the Q1 actual 3 is beyond the target (150% of the way; counted as 100%)")]
    missing = {f.department for f in result.findings if f.code == "actual-missing"}
    assert missing == {"ONB"}
    silent = {f.department for f in result.findings if f.code == "checkin-missing"}
    assert silent == set(UNITS) - set(ACTUALS) - set(BLANK)


def _item(q1, code):
    return q1["result"].progress.item("initiatives", code, f"{code}-I01")


def test_teams_progress_is_their_own_actuals_share_of_the_way(q1):
    got = {code: (_item(q1, code).progress, _item(q1, code).from_children) for code, *_ in TEAMS}
    assert got == {code: (pytest.approx(TEAM[code]) if code in TEAM else None, 0) for code, *_ in TEAMS}
    plt = _item(q1, "PLT")
    assert (plt.actual, plt.raw, plt.progress) == (3, pytest.approx(1.5), 1.0)


def test_every_departments_progress_is_its_own_actual_or_its_reporting_teams_mean(q1):
    got = {code: (_item(q1, code).progress, _item(q1, code).from_children) for code in DEPARTMENT}
    assert got == {code: (pytest.approx(p) if p is not None else None, n) for code, (p, n) in DEPARTMENT.items()}
    assert _item(q1, "OPS").actual == 1 and _item(q1, "MKT").actual is None
    # a unit with one initiative: its roll-up is that initiative's progress; coverage counts its own items
    report = q1["result"].progress
    rollups = {code: (report.department(code).progress, report.department(code).coverage) for code in DEPARTMENT}
    assert rollups == {
        code: (pytest.approx(p) if p is not None else None, "1 of 1" if p is not None else "0 of 1")
        for code, (p, _) in DEPARTMENT.items()
    }


def test_every_division_initiative_takes_its_departments_progress(q1):
    got = {code: (_item(q1, code).progress, _item(q1, code).from_children) for code in DIVISION}
    assert got == {code: (pytest.approx(p) if p is not None else None, n) for code, (p, n) in DIVISION.items()}
    report = q1["result"].progress
    rollups = {code: report.department(code).progress for code in DIVISION}
    assert rollups == {"COM": pytest.approx(COM_I01), "OPD": pytest.approx(OPD_I01), "CRP": None}


def test_the_corporate_objectives_count_only_the_chain_tops(q1):
    report = q1["result"].progress
    got = {o: (report.objective(o).progress, report.objective(o).coverage) for o in OBJECTIVE}
    assert got == {o: (pytest.approx(p), coverage) for o, (p, coverage) in OBJECTIVE.items()}
    overall = report.overall["Q1"]
    assert (overall.progress, overall.coverage) == (pytest.approx(COMPANY), "3 of 7")


def test_the_progress_sheets_through_the_cascade_table_shows_the_divisions(q1):
    ws = openpyxl.load_workbook(q1["master"], read_only=True)["Progress"]
    cells = [list(row) for row in ws.iter_rows(values_only=True)]
    start = next(r for r, row in enumerate(cells) if row[0] == "Through the cascade")
    assert cells[start + 2][:5] == ["Unit", "Initiative", "Title", "From children", "Q1"]
    rows = {}
    for row in cells[start + 3 :]:
        if not row[0]:
            break
        rows[row[1]] = (row[0], row[3], row[4])
    # every initiative others align to is listed once: 2 divisions' (CRP-I01 has nothing aligned to it)
    # and the 8 departments'
    assert sorted(rows) == sorted(["COM-I01", "OPD-I01"] + [f"{d}-I01" for d in DEPARTMENT])
    assert rows["COM-I01"] == ("COM", "2 of 3", pytest.approx(COM_I01))
    assert rows["OPD-I01"] == ("OPD", "3 of 3", pytest.approx(OPD_I01))
    assert rows["OPS-I01"] == ("OPS", "own actual", pytest.approx(0.25))
    assert rows["CSU-I01"] == ("CSU", None, None)
