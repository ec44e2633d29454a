"""The generated template, opened with openpyxl the way a reviewer would check it."""

from __future__ import annotations

import openpyxl
import pytest

from cascadebook import generate, load_spec
from cascadebook.kinds import CHECK_HEADER, META_SHEET
from cascadebook.model import Metadata
from cascadebook.signing import verify
from cascadebook.template.department import HEADER_ROW


@pytest.fixture
def book(templates):
    return openpyxl.load_workbook(templates["MKT"])


def test_one_file_per_department_named_by_cycle_and_code(templates, strategy):
    assert sorted(p.name for p in templates.values()) == sorted(f"FY2027_{d.code}.xlsx" for d in strategy.departments)


def test_sheets_and_very_hidden_signed_metadata(book, strategy, key):
    assert book.sheetnames == ["Instructions", "Objectives", "Initiatives", "KPIs", META_SHEET]
    assert book[META_SHEET].sheet_state == "veryHidden"
    pairs = {r[0]: r[1] for r in book[META_SHEET].iter_rows(values_only=True)}
    meta = Metadata.from_mapping(pairs)
    assert (meta.cycle, meta.department, meta.spec_name, meta.format_version) == ("FY2027", "MKT", "department", "3")
    assert (meta.level, meta.parent, meta.parent_plan) == ("", "", "")  # a flat strategy's template: no cascade fields
    assert meta.spec_fingerprint == load_spec("department").fingerprint()
    assert meta.fingerprint == strategy.fingerprint()
    assert meta.generated_at == "2027-01-04T09:00:00+00:00"
    assert verify(meta, key)
    # The same identity travels in custom document properties (LibreOffice keeps those).
    props = {p.name: p.value for p in book.custom_doc_props.props}
    assert props["cascadebook.department"] == "MKT"
    assert props["cascadebook.signature"] == meta.signature


def test_every_sheet_is_protected_and_only_inputs_are_unlocked(book):
    for ws in book.worksheets:
        assert ws.protection.sheet, ws.title
    ws = book["Initiatives"]
    spec = load_spec().sheet("initiatives")
    first = HEADER_ROW + 1
    assert ws.cell(HEADER_ROW, 1).value == "Initiative ID"
    headers = [c.value for c in ws[HEADER_ROW]]
    assert [h.rstrip(" *") for h in headers[: len(spec.columns)]] == [c.header for c in spec.columns]
    assert headers[len(spec.columns)] == CHECK_HEADER  # the live checks follow the spec's columns
    assert ws.cell(first, 1).value == "MKT-I01" and ws.cell(first, 1).protection.locked
    assert ws.cell(first + spec.prefilled_rows - 1, 1).value == f"MKT-I{spec.prefilled_rows:02d}"
    for c, col in enumerate(spec.columns, 1):
        if col.is_input:
            assert not ws.cell(first, c).protection.locked, col.key
            assert ws.cell(first, c).fill.fgColor.rgb.endswith("FFF2CC")
    assert ws.cell(HEADER_ROW, 2).protection.locked  # headers stay protected
    assert book["Objectives"]["A2"].protection.locked
    assert ws.freeze_panes == f"B{first}"


def test_dropdowns_and_help(book, strategy):
    ws = book["Initiatives"]
    by_column = {str(dv.sqref).split(":")[0]: dv for dv in ws.data_validations.dataValidation}
    objective = by_column["B5"]
    assert objective.type == "list" and objective.formula1 == "ObjectiveIds"
    assert objective.promptTitle == "Objective" and "corporate objective" in objective.prompt
    assert by_column["I5"].formula1 == '"Q1,Q2,Q3,Q4"'
    names = book.defined_names
    assert names["ObjectiveIds"].attr_text == "'Objectives'!$A$2:$A$8"
    assert names["InitiativesIds"].attr_text.startswith("'Initiatives'!$A$5:")
    kpis = {str(dv.sqref).split(":")[0]: dv for dv in book["KPIs"].data_validations.dataValidation}
    assert kpis["B5"].formula1 == "InitiativesIds"
    assert kpis["C5"].formula1 == '"Team,Individual"'
    objectives = book["Objectives"]
    assert [objectives.cell(r, 1).value for r in range(2, 9)] == [o.id for o in strategy.objectives]


def test_instructions_say_deadline_contact_and_legend(book):
    text = "\n".join(str(c.value) for row in book["Instructions"].iter_rows() for c in row if c.value is not None)
    assert "Marketing (MKT)" in text
    assert "strategy@northwind.example" in text
    assert "Shaded cells are yours to fill in." in text
    values = [c.value for row in book["Instructions"].iter_rows() for c in row]
    assert any(getattr(v, "year", None) == 2027 for v in values)  # the response deadline as a date


def test_generate_only_some_departments_and_reject_unknown(strategy, key, tmp_path):
    paths = generate(strategy, tmp_path, departments=["sal"], key=key)
    assert [p.name for p in paths] == ["FY2027_SAL.xlsx"]
    with pytest.raises(KeyError):
        generate(strategy, tmp_path, departments=["NOPE"], key=key)
