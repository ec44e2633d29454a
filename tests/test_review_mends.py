"""Mends after review: a department's state in `status` is its used file's, and an objective split
over 100% is read in proportion (no negative Unaligned share)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import openpyxl
import pytest

from cascadebook import reconcile
from cascadebook.kinds import META_SHEET
from cascadebook.mail.status import department_status
from conftest import clean_initiative, clean_kpi
from corpus import make_corpus as corpus


def test_a_clean_return_beside_a_rejected_copy_is_returned_with_the_copys_errors_noted(strategy, key, fill, returned):
    """FIN's good workbook, plus an older copy whose signed metadata was edited (rejected): FIN has
    returned (not 'returned with errors'), and the rejected copy's error is counted and explained."""
    rows = {"initiatives": [clean_initiative("CO4", "Pricing review", 1, 2)], "kpis": [clean_kpi("FIN-I01", "SKUs")]}
    fill("FIN", "FIN good.xlsx", rows=rows, saved_at=dt.datetime(2027, 1, 20, 9))
    copy = fill("FIN", "FIN old.xlsx", rows=rows, saved_at=dt.datetime(2027, 1, 10, 9))
    book = openpyxl.load_workbook(copy)
    for row in book[META_SHEET].iter_rows():
        if row[0].value == "generated_at":
            row[1].value = "2027-01-05T09:00:00+00:00"  # no longer what was signed
    book.save(copy)
    report = department_status(strategy, [returned], key=key, today=dt.date(2027, 1, 21))
    fin = next(r for r in report.departments if r.code == "FIN")
    assert fin.file == "returned/FIN good.xlsx"
    assert fin.state == "returned"
    assert fin.errors == 1  # the department's count, as the Summary and the JSON report have it
    assert fin.reason == "1 error(s) in files not used (see the master's Sources)"


def test_a_split_over_100_percent_is_read_in_proportion(strategy, key, fill, returned):
    """CO1 60% / CO2 50% (110%): an error says so, each objective gets its share of 100% (6/11, 5/11),
    the budget is counted once, and no negative Unaligned share balances it."""
    row = clean_initiative("", "Split too far", 1, 2, objective_split="CO1 60%; CO2 50%", budget=110_000)
    fill("MKT", rows={"initiatives": [row], "kpis": [clean_kpi("MKT-I01", "Leads")]})
    result = reconcile(strategy, [returned], key=key, jobs=1)
    [split] = [f for f in result.findings if f.code == "split-not-100"]
    assert "110%" in split.message and "in proportion" in split.message
    shares = {a.objective_id: a.weight for a in result.allocations if a.department == "MKT"}
    assert shares == {"CO1": 0.6 / 1.1, "CO2": 0.5 / 1.1}
    assert sum(a.budget for a in result.allocations if a.department == "MKT") == 110_000
    assert [a for a in result.unaligned if a.department == "MKT"] == []


# ---- intake review: the safety gate, the kind property, a strategy look-alike, bad specs ----------------


def _sheet_part(parts: dict[str, bytes], marker: bytes) -> str:
    return next(n for n, data in parts.items() if n.startswith("xl/worksheets/sheet") and marker in data)


def test_unclosed_cell_tags_in_comments_do_not_stall_the_stray_scan(strategy, key, fill, returned):
    """A sheet reaching past A1:AZ9999 is scanned cell by cell for strays; 20,000 comments each holding
    an unclosed <c> made the old pattern rescan to the end of the part for each (hours for a few MB).
    The plan's rows are still read and the far value named."""
    rows = {"initiatives": [clean_initiative("CO1", "Campaign", 1, 2)], "kpis": [clean_kpi("MKT-I01", "Leads")]}
    path = fill("MKT", rows=rows)
    parts = corpus.package_parts(path)
    name = (
        _sheet_part(parts, b"Campaign")
        if any(b"Campaign" in d for d in parts.values())
        else _sheet_part(parts, b"<sheetData")
    )
    parts[name] = parts[name].replace(
        b"</sheetData>",
        b'<row r="20000"><c r="A20000" t="inlineStr"><is><t>far</t></is></c></row></sheetData>'
        + b'<!--<c r="A1">-->' * 20_000,
        1,
    )
    corpus.rezip(path, parts)
    result = reconcile(strategy, [returned], key=key, jobs=1)
    assert [r.values["title"] for r in result.initiatives] == ["Campaign"]
    [stray] = [f for f in result.findings if f.code == "stray-cell"]
    assert "A20000 'far'" in stray.message


def test_a_signed_template_whose_kind_property_says_master_is_not_skipped_silently(strategy, key, fill, returned):
    """Only unsigned outputs are skipped on their kind property: a signed template whose property was
    changed is judged by its signed metadata (here: the two copies disagree, so it is rejected) and
    its rows are named."""
    path = fill("FIN", rows={"initiatives": [clean_initiative("CO4", "Pricing", 1, 2)]})
    parts = corpus.package_parts(path)
    custom = parts["docProps/custom.xml"]
    assert b"<vt:lpwstr>plan</vt:lpwstr>" in custom
    parts["docProps/custom.xml"] = custom.replace(b"<vt:lpwstr>plan</vt:lpwstr>", b"<vt:lpwstr>master</vt:lpwstr>")
    corpus.rezip(path, parts)
    result = reconcile(strategy, [returned], key=key, jobs=1)
    codes = {f.code for f in result.findings if f.file == "returned/FIN.xlsx"}
    assert "not-a-return" not in codes
    assert {"signature-mismatch", "rows-not-taken"} <= codes


def test_a_return_without_metadata_but_with_a_departments_sheet_is_not_a_strategy_workbook(
    strategy, key, fill, returned
):
    """A plan whose metadata was lost and to which someone added a 'Departments' sheet still shows its
    Initiatives sheet: it is read by its content, not skipped as an old strategy workbook."""
    path = fill("MKT", rows={"initiatives": [clean_initiative("CO1", "Campaign", 1, 2)]})
    book = openpyxl.load_workbook(path)
    del book[META_SHEET]
    book.custom_doc_props.props.clear()
    book.create_sheet("Departments")["A1"] = "Code"
    book.save(path)
    result = reconcile(strategy, [returned], key=key, jobs=1)
    assert "not-a-return" not in {f.code for f in result.findings}
    assert [r.values["title"] for r in result.initiatives] == ["Campaign"]


@pytest.mark.parametrize(
    "text, message",
    [
        ("name: x\nsheets: 5\n", "sheets: expected a list, found int 5"),
        ("name: x\nsheets:\n  - key: a\n    columns: 5\n", "sheets[0].columns: expected a list, found int 5"),
        ("name: x\nfields: 5\n", "fields: expected a list, found int 5"),
    ],
)
def test_a_spec_with_a_number_where_a_list_belongs_is_a_one_line_error(tmp_path, text, message):
    from cascadebook.spec.schema import SpecError, load_spec

    spec = tmp_path / "bad.yaml"
    spec.write_text(text, encoding="utf-8")
    with pytest.raises(SpecError, match=re.escape(message)):
        load_spec(spec)


def test_a_spec_saved_in_a_windows_code_page_says_to_save_it_as_utf8(tmp_path, strategy_path):
    from click.testing import CliRunner

    from cascadebook.cli import cli

    spec = tmp_path / "ansi.yaml"
    spec.write_bytes("name: département\n".encode("cp1252"))
    out = CliRunner().invoke(cli, ["generate", str(strategy_path), "-o", str(tmp_path / "out"), "--spec", str(spec)])
    assert (out.exit_code == 2 and out.exception is None) or isinstance(out.exception, SystemExit)
    assert "is not UTF-8 text: save it as UTF-8" in out.output
    assert "Traceback" not in out.output


def test_the_bundled_spec_does_not_make_the_working_directory_a_place_to_look_for_specs(
    tmp_path, monkeypatch, strategy
):
    """The bundled spec has no folder of its own: the folder a command happens to run in is not searched."""
    from importlib import resources

    from cascadebook.spec.schema import load_spec, spec_candidates

    bundled = resources.files("cascadebook.workbook_templates").joinpath("department.yaml").read_text("utf-8")
    here = tmp_path / "elsewhere"
    (here / "sub").mkdir(parents=True)
    (here / "department.yaml").write_text(bundled, encoding="utf-8")
    (here / "sub" / "department-9.yaml").write_text(
        bundled.replace("\nversion:", "\nversion: '9'\nold_version:", 1) if "\nversion:" in bundled else bundled,
        encoding="utf-8",
    )
    monkeypatch.chdir(here)
    found = spec_candidates(load_spec("department"), strategy)
    assert [s.path for s in found if s.path and here in Path(s.path).absolute().parents] == []
