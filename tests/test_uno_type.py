"""Typing into a template through LibreOffice Calc (libreoffice.type_cells over UNO), then reconciling it.

One soffice call for the module. Without LibreOffice or python3-uno these tests skip, saying why,
except under CI, where .ci/run installs both and a missing one is a failure (conftest.require_uno).
"""

from __future__ import annotations

import shutil
import zipfile

import openpyxl
import pytest
from openpyxl.utils import get_column_letter

from cascadebook import generate, load_key, load_spec, load_strategy, reconcile
from cascadebook.spec import roles
from cascadebook.spec.schema import normalise_header
from cascadebook.template.department import HEADER_ROW
from conftest import SAMPLE_STRATEGY, require_uno
from libreoffice import LibreOfficeError, type_cells

pytestmark = pytest.mark.libreoffice

TITLE = "Partner webinars typed in Calc"
TARGET = 150


@pytest.fixture(scope="module")
def typed(tmp_path_factory):
    """(strategy, key, the generated template, its copy typed in Calc in returned/, the cells typed)."""
    require_uno()
    root = tmp_path_factory.mktemp("uno")
    shutil.copyfile(SAMPLE_STRATEGY, root / "strategy.yaml")
    strategy = load_strategy(root / "strategy.yaml")
    key = load_key(root / "strategy.yaml", create=True)
    (template,) = generate(strategy, root / "outbox", key=key, departments=["MKT"])
    sheet = load_spec("department").require_sheet(roles.INITIATIVES)
    header = openpyxl.load_workbook(template)[sheet.title][HEADER_ROW]
    column = {normalise_header(c.value): c.column for c in header if c.value}
    row = HEADER_ROW + 1  # the first input row

    def cell(role: str) -> str:
        return f"{get_column_letter(column[normalise_header(sheet.header_of(role))])}{row}"

    cells = {"title": cell(roles.TITLE), "target": cell(roles.TARGET)}
    (root / "returned").mkdir()
    result = type_cells(
        template,
        root / "returned" / "Marketing.xlsx",
        [
            {"sheet": sheet.title, "cell": cells["title"], "value": TITLE},
            {"sheet": sheet.title, "cell": cells["target"], "value": TARGET},
        ],
    )
    return strategy, key, template, result, cells


def test_the_typed_values_are_in_the_workbook_calc_saved(typed):
    _, _, template, result, cells = typed
    title = load_spec("department").require_sheet(roles.INITIATIVES).title
    ws = openpyxl.load_workbook(result)[title]
    assert ws[cells["title"]].value == TITLE
    assert ws[cells["target"]].value == TARGET and ws[cells["target"]].data_type == "n"  # a number, not text
    assert openpyxl.load_workbook(template)[title][cells["title"]].value is None  # the source is untouched
    with zipfile.ZipFile(result) as package:
        assert b"LibreOffice" in package.read("docProps/app.xml")  # saved by Calc, not copied


def test_reconcile_reads_the_typed_row_as_the_department_s_first_initiative(typed):
    strategy, key, _, result, cells = typed
    initiatives = load_spec("department").require_sheet(roles.INITIATIVES)
    reconciled = reconcile(strategy, [result.parent], key=key, jobs=1)
    records = [r for r in reconciled.initiatives if r.department == "MKT"]
    assert len(records) == 1, [(f.code, f.message) for f in reconciled.findings]
    assert records[0].id == "MKT-I01"
    assert records[0].values[initiatives.key_of(roles.TITLE)] == TITLE
    assert records[0].values[initiatives.key_of(roles.TARGET)] == TARGET
    assert records[0].cells[initiatives.key_of(roles.TITLE)] == cells["title"]


def test_a_failure_is_a_libreoffice_error_with_the_script_s_one_line(typed, tmp_path):
    # Both refused before any soffice starts: no LibreOffice time spent.
    with pytest.raises(
        LibreOfficeError, match=r"uno_type\.py failed \(1\): uno_type: no such workbook: .*absent\.xlsx"
    ):
        type_cells(tmp_path / "absent.xlsx", tmp_path / "out.xlsx", [])
    _, _, template, _, _ = typed
    with pytest.raises(LibreOfficeError, match=r"edit 1: the value must be a string or a number, found True"):
        type_cells(template, tmp_path / "out.xlsx", [{"sheet": "any", "cell": "C5", "value": True}])
    assert not (tmp_path / "out.xlsx").exists()
