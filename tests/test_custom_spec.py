"""A column added to the spec alone shows up in the template, its validation and the master."""

from __future__ import annotations

import openpyxl
import yaml

from cascadebook import generate, load_spec, reconcile, write_master
from conftest import ROOT, clean_initiative, clean_kpi
from fill import fill_workbook


def test_risk_column_travels_from_spec_to_master(strategy, key, tmp_path):
    data = yaml.safe_load((ROOT / "workbook_templates" / "department.yaml").read_text())
    data["name"], data["version"] = "department-with-risk", "1.1"
    data["sheets"][0]["columns"].insert(
        4,
        {
            "key": "risk",
            "header": "Risk",
            "type": "choice",
            "choices": ["Low", "Medium", "High"],
            "width": 10,
            "help": "How likely the initiative misses its target.",
        },
    )
    spec_path = tmp_path / "risk.yaml"
    spec_path.write_text(yaml.safe_dump(data, sort_keys=False))
    spec = load_spec(spec_path)

    template = generate(strategy, tmp_path / "outbox", spec=spec, departments=["MKT"], key=key)[0]
    book = openpyxl.load_workbook(template)
    ws = book["Initiatives"]
    assert ws["E4"].value == "Risk" and ws["F4"].value == "Metric"
    risk = next(dv for dv in ws.data_validations.dataValidation if str(dv.sqref).startswith("E5"))
    assert risk.formula1 == '"Low,Medium,High"' and risk.promptTitle == "Risk"
    assert not ws["E5"].protection.locked
    meta = {r[0]: r[1] for r in book["_cascadebook"].iter_rows(values_only=True)}
    assert (meta["spec_name"], meta["spec_version"]) == ("department-with-risk", "1.1")

    returned = tmp_path / "returned"
    fill_workbook(
        template,
        returned / "mkt.xlsx",
        spec=spec,
        rows={
            "initiatives": [
                clean_initiative("CO1", "Campaign", 1, 2, risk="high"),
                clean_initiative("CO2", "Regional ads", 1, 2, risk="Extreme"),
            ],
            "kpis": [clean_kpi("MKT-I01", "Leads"), clean_kpi("MKT-I02", "Share")],
        },
    )
    result = reconcile(strategy, [returned], spec=spec, key=key, jobs=1)
    wrong = [(f.code, f.cell, f.message) for f in result.findings if f.severity.value == "error"]
    assert wrong == [("wrong-type", "E6", "Risk should be one of Low, Medium, High, found 'Extreme'")]

    master = openpyxl.load_workbook(write_master(result, tmp_path / "master.xlsx"))
    table = master["Initiatives"]
    head = [c.value for c in table[1]]
    assert "Risk" in head
    rows = {r[1]: dict(zip(head, r)) for r in table.iter_rows(min_row=2, values_only=True)}
    assert rows["MKT-I01"]["Risk"] == "High"  # stored in the spec's spelling
    assert rows["MKT-I02"]["Risk"] == "Extreme"  # kept as typed, with its finding
