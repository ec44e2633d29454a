"""`cascadebook export`: the master as stable YAML and CSV, read back by generate --from and diff."""

from __future__ import annotations

import csv

import openpyxl
import yaml
from click.testing import CliRunner

from cascadebook import reconcile, write_master
from cascadebook.cli import cli
from cascadebook.cycle.diff import diff_masters
from cascadebook.cycle.export import export_master, read_export
from cascadebook.master.read import read_master
from conftest import ROOT


def _master(tmp_path, strategy_path):
    from cascadebook import load_key, load_strategy

    strategy = load_strategy(ROOT / "samples" / "strategy.yaml")
    result = reconcile(
        strategy, [ROOT / "samples" / "returned"], key=load_key(ROOT / "samples" / "strategy.yaml"), jobs=1
    )
    return write_master(result, tmp_path / "master.xlsx")


def test_export_is_sorted_stable_and_reads_back(tmp_path, strategy_path):
    master = _master(tmp_path, strategy_path)
    first = export_master(master, tmp_path / "a")
    second = export_master(master, tmp_path / "b")
    assert [p.name for p in first] == ["hierarchy.yaml", "initiatives.csv", "kpis.csv"]
    for a, b in zip(first, second):
        assert a.read_bytes() == b.read_bytes()

    tree = yaml.safe_load((tmp_path / "a" / "hierarchy.yaml").read_text())
    assert [o["id"] for o in tree["objectives"]] == ["CO1", "CO2", "CO3", "CO4", "CO5", "CO6", "CO7"]
    co1 = tree["objectives"][0]
    assert co1["title"] == "Increase enterprise customer acquisition by 20%" and co1["target"] == 72
    assert [(i["department"], i["id"]) for i in co1["initiatives"]] == [("MKT", "MKT-I01"), ("SAL", "SAL-I01")]
    assert [k["id"] for k in co1["initiatives"][0]["kpis"]] == ["MKT-K01", "MKT-K02"]
    assert co1["initiatives"][0]["budget"] == 420000 and co1["initiatives"][0]["due_period"] == "Q4"
    assert [i["id"] for i in tree["unaligned_initiatives"]] == ["OPS-I03"]  # CO9 is not an objective
    assert tree["objectives"][6]["initiatives"] == []  # CO7: the gap stays visible
    assert [k["id"] for k in tree["unattached_kpis"]] == ["OPS-K03"]  # its initiative OPS-I07 is empty

    with open(tmp_path / "a" / "initiatives.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows[0]["department"] == "FIN" and rows[0]["budget"] == "60000"
    assert len(rows) == len(read_master(master).initiatives)

    original, exported = read_master(master), read_export(tmp_path / "a")
    for key in ("initiatives", "kpis"):
        left = sorted(
            (r.department, r.id, r.values.get("target"), r.values.get("owner")) for r in original.records[key]
        )
        right = sorted(
            (r.department, r.id, r.values.get("target"), r.values.get("owner")) for r in exported.records[key]
        )
        assert left == right
    assert not diff_masters(original, exported)  # nothing changed between a master and its export


def test_cli_export_then_generate_from_the_export(tmp_path, strategy_path):
    master = _master(tmp_path, strategy_path)
    runner = CliRunner()
    result = runner.invoke(cli, ["export", str(master), "-o", str(tmp_path / "export")], catch_exceptions=False)
    assert result.exit_code == 0 and "hierarchy.yaml" in result.output
    result = runner.invoke(
        cli,
        [
            "generate",
            str(strategy_path),
            "-o",
            str(tmp_path / "next"),
            "--department",
            "SAL",
            "--from",
            str(tmp_path / "export"),
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    ws = openpyxl.load_workbook(tmp_path / "next" / "FY2027_SAL.xlsx")["Initiatives"]
    assert (ws["A5"].value, ws["C5"].value) == ("SAL-I01", "Restructure the enterprise sales team for solution selling")
    result = runner.invoke(cli, ["diff", str(master), str(tmp_path / "export"), "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output


def test_export_of_something_else_is_a_one_line_error(tmp_path):
    (tmp_path / "x.xlsx").write_bytes(b"junk")
    result = CliRunner().invoke(cli, ["export", str(tmp_path / "x.xlsx"), "-o", str(tmp_path / "o")])
    assert result.exit_code == 2 and result.output.startswith("Error: x.xlsx: cannot read the workbook")
