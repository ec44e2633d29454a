"""The whole cascade at the size the issue names (issue 20, "Done when"): company -> 3 divisions -> 8 departments
-> 20 teams, planned in rounds through the library and filled with openpyxl as the unit heads would.

Round 1 (``generate``): the divisions, and the two departments aligned straight to the corporate objectives (FIN,
HR), return. Round 2 (``generate --from master1 --cascade``): the six departments aligned to their division's plan,
and FIN's and HR's teams. Round 3 (``--from master2 --cascade``): the teams under the six. (A chain of three
aligned levels takes three rounds: a unit's template is made from its parent's accepted plan.)

Every initiative is a count or points figure, one per unit, so each commitment below is a sum done by hand."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from cascadebook import generate, load_key, load_strategy, reconcile, write_master
from cascadebook.cycle.cascade_round import generate_cascade
from cascadebook.spec.schema import resolve_spec
from conftest import clean_initiative
from fill import fill_workbook
from org_strategy import write_org_strategy

# (code, parent, aligns_to, aligned to, unit, baseline, target, contribution)
DIVISIONS = [
    ("COM", None, "objectives", "CO1", "count", 60, 72, 12),  # COM-I01: CO1's whole change of 12
    ("OPD", None, "objectives", "CO6", "points", 31, 41, 10),  # OPD-I01: 10 of CO6's 14
    ("CRP", None, "objectives", "CO7", "points", 68, 80, 12),  # CRP-I01: CO7's 12
]
DEPARTMENTS = [
    ("MKT", "COM", "parent", "COM-I01", "count", 0, 5, 5),
    ("SAL", "COM", "parent", "COM-I01", "count", 0, 4, 4),
    ("CSU", "COM", "parent", "COM-I01", "count", 0, 2, 2),  # COM-I01: 5 + 4 + 2 = 11 of 12, a shortfall
    ("OPS", "OPD", "parent", "OPD-I01", "points", 0, 4, 4),
    ("RND", "OPD", "parent", "OPD-I01", "points", 0, 4, 4),
    ("QUA", "OPD", "parent", "OPD-I01", "points", 0, 2, 2),  # OPD-I01: 4 + 4 + 2 = 10 of 10
    ("FIN", "CRP", "objectives", "CO7", "points", 68, 71, 3),  # straight to CO7: 3
    ("HR", "CRP", "objectives", "CO7", "points", 68, 74, 6),  # straight to CO7: 6
]
TEAMS = [  # 20 teams under the 8 departments
    ("DIG", "MKT", 2),
    ("EVT", "MKT", 2),
    ("CNT", "MKT", 1),  # MKT-I01: 5 of 5
    ("ENT", "SAL", 2),
    ("INS", "SAL", 1),
    ("KEY", "SAL", 1),  # SAL-I01: 4 of 4
    ("ONB", "CSU", 1),
    ("SUP", "CSU", 1),  # CSU-I01: 2 of 2
    ("LOG", "OPS", 2),
    ("WHS", "OPS", 1),
    ("PLN", "OPS", 1),  # OPS-I01: 4 of 4
    ("EMB", "RND", 2),
    ("PLT", "RND", 2),
    ("LAB", "RND", 3),  # RND-I01: 7 of 4, 175%: a surplus (beyond 150%)
    ("QCT", "QUA", 1),
    ("AUD", "QUA", 1),  # QUA-I01: 2 of 2
    ("FPA", "FIN", 2),
    ("TAX", "FIN", 1),  # FIN-I01: 3 of 3
    ("TAL", "HR", 3),
    ("LRN", "HR", 2),  # HR-I01: 5 of 6, a shortfall
]
UNITS = {
    **{d[0]: d for d in DIVISIONS + DEPARTMENTS},
    **{code: (code, parent, "parent", f"{parent}-I01", None, 0, n, n) for code, parent, n in TEAMS},
}
ALIGNED_DEPARTMENTS = [d[0] for d in DEPARTMENTS if d[2] == "parent"]
UNIT_OF = {"CO1": "count", "CO6": "points", "CO7": "points"}
OBJECTIVE_OF = {"COM": "CO1", "OPD": "CO6", "CRP": "CO7", "FIN": "CO7", "HR": "CO7"}


def objective_of(code: str) -> str:
    """The corporate objective a unit's one initiative reaches, walking up by hand."""
    while code not in OBJECTIVE_OF:
        code = UNITS[code][1]
    return OBJECTIVE_OF[code]


def row(code: str) -> dict:
    _, _, _, ref, unit, baseline, target, contribution = UNITS[code]
    unit = unit or UNIT_OF[objective_of(code)]
    return clean_initiative(ref, f"{code} plan", baseline, target, unit=unit, contribution=contribution)


def _strategy(tmp: Path) -> Path:
    return write_org_strategy(
        tmp, [(code, f"Unit {code}", parent, aligns) for code, parent, aligns, *_ in UNITS.values()]
    )


def _fill(templates, codes, returned: Path) -> None:
    by_code = {p.stem.split("_")[-1]: p for p in templates}
    for code in codes:
        fill_workbook(by_code[code], returned / f"{code}.xlsx", rows={"initiatives": [row(code)]})


@pytest.fixture(scope="module")
def cascade(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("four-levels")
    path = _strategy(tmp)
    strategy, key = load_strategy(path), load_key(path, create=True)
    spec = resolve_spec(None, strategy)
    returned = tmp / "returned"
    first_round = ["COM", "OPD", "CRP", "FIN", "HR"]
    _fill(generate(strategy, tmp / "round1", key=key, departments=first_round), first_round, returned)
    write_master(reconcile(strategy, [returned], key=key, jobs=1), tmp / "master1.xlsx")
    round2 = generate_cascade(strategy, tmp / "master1.xlsx", tmp / "round2", spec=spec, key=key)
    second_round = sorted(p.stem.split("_")[-1] for p in round2.written)
    _fill(round2.written, second_round, returned)
    write_master(reconcile(strategy, [returned], key=key, jobs=1), tmp / "master2.xlsx")
    third_teams = [code for code, parent, _ in TEAMS if parent in ALIGNED_DEPARTMENTS]
    round3 = generate_cascade(
        strategy, tmp / "master2.xlsx", tmp / "round3", spec=spec, key=key, departments=third_teams
    )
    _fill(round3.written, third_teams, returned)
    result = reconcile(strategy, [returned], key=key, jobs=1)
    write_master(result, tmp / "master3.xlsx")
    return dict(tmp=tmp, round2=round2, second_round=second_round, round3=round3, result=result)


def test_each_round_offers_templates_to_the_units_whose_parent_plan_is_in_the_master(cascade):
    teams_of_fin_and_hr = ["FPA", "LRN", "TAL", "TAX"]
    assert cascade["second_round"] == sorted(ALIGNED_DEPARTMENTS + teams_of_fin_and_hr)
    skipped = dict(cascade["round2"].skipped)
    assert skipped == {
        code: f"{parent} has no plan in the master yet" for code, parent, _ in TEAMS if parent in ALIGNED_DEPARTMENTS
    }
    assert len(cascade["round3"].written) == 16 and not cascade["round3"].skipped


def test_every_unit_returned_and_nothing_is_unaligned(cascade):
    result = cascade["result"]
    assert sorted(s.department for s in result.sources if s.status == "accepted") == sorted(UNITS)
    assert not result.unaligned
    errors = [(f.code, f.department, f.cell) for f in result.findings if f.severity == "error"]
    assert errors == []


def test_every_team_initiative_is_traced_to_its_corporate_objective(cascade):
    result = cascade["result"]
    got = {(a.department, a.initiative_id): (a.objective_id, round(a.weight, 9)) for a in result.allocations}
    assert got == {(code, f"{code}-I01"): (objective_of(code), 1.0) for code in UNITS}
    # a cascaded initiative's contribution counts toward its parent initiative, not again toward the objective
    cascaded = {a.department for a in result.allocations if a.contribution is None}
    assert cascaded == {code for code, _, aligns, *_ in UNITS.values() if aligns == "parent"}


def _table(book, name: str) -> list[dict]:
    rows = book[name].iter_rows(values_only=True)
    header = next(rows)
    return [dict(zip(header, r)) for r in rows if r[0] is not None]


def test_the_master_traces_every_team_initiative_up_to_its_corporate_objective(cascade):
    book = openpyxl.load_workbook(cascade["tmp"] / "master3.xlsx", read_only=True)
    # the Initiatives table keeps what each unit typed: its parent's initiative, or a corporate objective
    up = {r["Initiative ID"]: r["Objective"] for r in _table(book, "Initiatives")}
    assert up == {f"{code}-I01": UNITS[code][3] for code in UNITS}
    # followed up, every chain ends at a corporate objective: team -> department -> division -> objective
    chains = {}
    for code, *_ in TEAMS:
        chain = [f"{code}-I01"]
        while chain[-1] in up:
            chain.append(up[chain[-1]])
        chains[code] = chain
    assert chains["DIG"] == ["DIG-I01", "MKT-I01", "COM-I01", "CO1"]
    assert chains["FPA"] == ["FPA-I01", "FIN-I01", "CO7"]
    assert {code: chain[-1] for code, chain in chains.items()} == {code: objective_of(code) for code, *_ in TEAMS}
    # and the Contributions table counts each initiative under the objective its chain reaches, with the
    # contribution only where it reaches the objective directly (the others count toward their parent)
    contributions = {r["Initiative ID"]: (r["Objective"], r["Contribution"]) for r in _table(book, "Contributions")}
    assert contributions == {
        f"{code}-I01": (objective_of(code), UNITS[code][7] if UNITS[code][2] == "objectives" else None)
        for code in UNITS
    }


def test_commitments_roll_up_at_every_level_as_summed_by_hand(cascade):
    result = cascade["result"]
    by_id = {c.initiative_id: c for c in result.cascade.commitments}
    expected = {  # parent initiative: (level, target change, committed, children)
        "COM-I01": (1, 12, 11, 3),
        "OPD-I01": (1, 10, 10, 3),
        "MKT-I01": (2, 5, 5, 3),
        "SAL-I01": (2, 4, 4, 3),
        "CSU-I01": (2, 2, 2, 2),
        "OPS-I01": (2, 4, 4, 3),
        "RND-I01": (2, 4, 7, 3),
        "QUA-I01": (2, 2, 2, 2),
        "FIN-I01": (2, 3, 3, 2),
        "HR-I01": (2, 6, 5, 2),
    }
    got = {i: (c.level, c.change, c.committed, c.children) for i, c in by_id.items()}
    assert got == expected
    shortfall = sorted(f.location for f in result.findings if f.code == "parent-commitment-shortfall")
    surplus = sorted(f.location for f in result.findings if f.code == "parent-commitment-surplus")
    assert (shortfall, surplus) == (["COM-I01", "HR-I01"], ["RND-I01"])
    # the objectives count only what reaches them directly: the divisions' and FIN's and HR's contributions
    objectives = {c.objective.id: (c.committed, c.initiatives, len(c.departments)) for c in result.commitments}
    assert objectives["CO1"] == (12, 1 + 3 + 8, 12)  # COM, MKT/SAL/CSU, their 8 teams
    assert objectives["CO6"] == (10, 1 + 3 + 8, 12)  # OPD, OPS/RND/QUA, their 8 teams
    assert objectives["CO7"] == (12 + 3 + 6, 1 + 2 + 4, 7)  # CRP, FIN, HR, their 4 teams
