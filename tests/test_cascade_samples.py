"""The README's cascade in two rounds, run as written on the shipped samples (samples/cascade/, issue 20).

The round-2 workbooks in samples/cascade/returned-round2 were made by ``generate --from MASTER --cascade``
from round 1's master: reconciled with round 1 they must match their parent's plan as shipped (no
``parent-plan-changed``), be accepted, and trace every team initiative up to a corporate objective."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from cascadebook.cli import cli
from cascadebook.kinds import PARENT_PLAN_SHEET

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str, code: int | None = 0):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    if code is not None:
        assert result.exit_code == code, result.output
    return result


def _table(path: Path, sheet: str) -> list[dict]:
    rows = openpyxl.load_workbook(path, read_only=True)[sheet].iter_rows(values_only=True)
    head = next(rows)
    return [dict(zip(head, r)) for r in rows if r[0] is not None]


@pytest.fixture(scope="module")
def walked(tmp_path_factory):
    """The README block's commands, in a folder where ``samples`` is the repository's."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("The cascade in two rounds", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].split() for line in block.splitlines() if line.startswith("cascadebook ")]
    assert [c[1] for c in commands] == ["generate", "reconcile", "generate", "reconcile"]
    assert "--cascade" in commands[2]
    here = tmp_path_factory.mktemp("readme-cascade")
    (here / "samples").symlink_to(ROOT / "samples")
    mp = pytest.MonkeyPatch()
    mp.chdir(here)
    try:
        outputs = [run(*command[1:], code=None) for command in commands]
    finally:
        mp.undo()
    return here, outputs


def test_round_one_writes_a_template_per_unit_and_round_two_one_per_unit_aligned_to_a_returned_parent(walked):
    here, outputs = walked
    assert outputs[0].exit_code == 0 and len(list((here / "cascade" / "outbox").glob("*.xlsx"))) == 13
    assert outputs[2].exit_code == 0
    round2 = sorted(p.stem.split("_")[-1] for p in (here / "cascade" / "round2").glob("*.xlsx"))
    assert round2 == ["DIG", "ENT", "EVT", "INS", "OPS", "RND"]
    ws = openpyxl.load_workbook(here / "cascade" / "round2" / "FY2027_DIG.xlsx")[PARENT_PLAN_SHEET]
    assert "Marketing (MKT)" in ws["A1"].value
    assert [(ws.cell(r, 1).value, ws.cell(r, 2).value) for r in range(4, 8)] == [
        ("MKT-I01", "CO1"),
        ("MKT-I02", "CO3 80% / CO2 20%"),  # the split Marketing typed
        ("MKT-I03", "CO2"),
        (None, None),
    ]


def test_the_shipped_round_two_reconciles_with_round_one_and_traces_the_teams_to_the_objectives(walked):
    here, outputs = walked
    assert outputs[3].exit_code == 1  # the samples carry mistakes: errors, reported one per line
    master = here / "cascade" / "master2.xlsx"
    sources = {(r["Department"], r["Status"]) for r in _table(master, "Sources")}
    assert {code for code, status in sources if status == "accepted"} == {
        *("COM", "OPD", "CRP", "MKT", "SAL", "OPS", "RND", "FIN"),
        *("DIG", "EVT", "ENT", "INS"),
    }
    up = {r["Initiative ID"]: r["Objective"] for r in _table(master, "Initiatives")}
    reaches = {r["Initiative ID"]: r["Objective"] for r in _table(master, "Contributions")}
    assert (up["DIG-I01"], reaches["DIG-I01"]) == ("MKT-I01", "CO1")
    assert (up["ENT-I02"], up["SAL-I02"], reaches["ENT-I02"]) == ("SAL-I02", "CO4", "CO4")
    assert (up["RND-I01"], up["OPD-I02"], reaches["RND-I01"]) == ("OPD-I02", "CO6", "CO6")
    found = {(r["Code"], r["Department"]) for r in _table(master, "Findings")}
    assert ("parent-initiative-unknown", "EVT") in found  # MKT-I05: Marketing has three initiatives
    assert not {code for code, _ in found if code == "parent-plan-changed"}  # made from round 1 as shipped
    assert ("parent-commitment-shortfall", "MKT") in found  # DIG's 60 and EVT's 40 of MKT-I01's 110 leads
    assert reaches["EVT-I02"] == "Unaligned"  # nothing lost: the row is kept, with why


def test_the_cascade_samples_strategy_workbook_is_the_yaml_and_its_tree_is_the_issues():
    from cascadebook import load_strategy
    from cascadebook.org import OrgTree

    from_yaml = load_strategy(ROOT / "samples" / "cascade" / "strategy.yaml")
    from_book = load_strategy(ROOT / "samples" / "cascade" / "strategy.xlsx")
    assert (from_yaml.objectives, from_yaml.departments) == (from_book.objectives, from_book.departments)
    tree = OrgTree.of(from_yaml.departments)
    by_level = {}
    for unit in from_yaml.departments:
        by_level.setdefault(tree.level(unit.code), []).append(unit.code)
    assert by_level == {
        1: ["COM", "OPD", "CRP"],
        2: ["MKT", "SAL", "OPS", "RND", "FIN", "HR"],
        3: ["DIG", "EVT", "ENT", "INS"],
    }
    assert [u.code for u in from_yaml.departments if u.aligns_to == "parent"] == [
        "OPS",
        "RND",
        "DIG",
        "EVT",
        "ENT",
        "INS",
    ]
