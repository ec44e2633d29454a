"""Issue 15, item 4's gap: department.yaml edited after the templates went out, its version left as it was.

A template signs a fingerprint of the spec it was made from (metadata format 2). A return whose
fingerprint is not that of the spec in use is read with the spec it was made from when a copy is
found (beside the strategy, in a subfolder, or the bundled spec), and otherwise its values in columns
the spec in use has not are ``spec-changed`` warnings, not info notes. Templates of format 1 (no
fingerprint) verify and read as before.

Every scene starts from `cascadebook init`, edits department.yaml as text, fills the template with
openpyxl and runs the CLI without --spec.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import shutil
from pathlib import Path

import openpyxl
import pytest
from openpyxl.packaging.custom import StringProperty

from cascadebook.kinds import FORMAT_VERSION, META_SHEET
from cascadebook.model import Metadata
from cascadebook.signing import load_key, sign
from cascadebook.spec.schema import load_spec
from cascadebook.template.department import HEADER_ROW, META_PROPERTY_PREFIX
from test_trust_specs import METRIC, RISK, edit, fill, findings, headers, initiative, kpi, master_rows, run

NOTES = "{key: notes, header: Notes,"
ROWS = [HEADER_ROW + 1, HEADER_ROW + 2]


@pytest.fixture
def cycle(tmp_path: Path) -> Path:
    folder = tmp_path / "cycle"
    run("init", folder)
    return folder


def plan(template: Path, target: Path, code: str = "MKT") -> Path:
    """Two initiatives typed the way a person does, every column of the template filled in."""
    risk = "Risk" in headers(openpyxl.load_workbook(template, read_only=False)["Initiatives"])
    extra = [
        {"Expected impact": "40 enterprise leads", "Notes": "book the booth early"},
        {"Expected impact": "awareness +5 points", "Notes": "survey agency chosen"},
    ]
    if risk:
        extra[0]["Risk"], extra[1]["Risk"] = "High", "Low"
    return fill(
        template,
        target,
        [
            initiative("CO1", f"{code} trade-show circuit", **extra[0]),
            initiative("CO3", f"{code} brand survey push", **extra[1]),
        ],
        [kpi(f"{code}-I01", "Leads"), kpi(f"{code}-I02", "Survey reach")],
    )


def reconcile(cycle: Path, *extra: str) -> list[dict]:
    result = run(
        "reconcile",
        cycle / "strategy.yaml",
        cycle / "returned",
        "-o",
        cycle / "master.xlsx",
        "--json",
        cycle / "report.json",
        "-q",
        *extra,
        code=None,
    )
    assert result.exit_code in (0, 1) and "Traceback" not in result.output, result.output
    return findings(cycle / "report.json")


def taken(cycle: Path, file: str) -> bool:
    sources = json.loads((cycle / "report.json").read_text())["sources"]
    return [s["status"] for s in sources if s["file"] == file] == ["accepted"]


def edit_after_sending(spec: Path) -> None:
    """What the office does once the templates are out: Notes becomes 'Comments', Risk is dropped,
    and version: stays "1.0"."""
    edit(spec, RISK, "")
    edit(spec, NOTES, "{key: notes, header: Comments,")


# ---- the fingerprint itself ---------------------------------------------------------------------------


def test_fingerprint_follows_what_reading_depends_on_only(cycle: Path):
    spec = cycle / "department.yaml"
    original = load_spec(spec).fingerprint()
    assert original == load_spec("department").fingerprint()  # init writes the bundled spec

    def after(old: str, new: str) -> str:
        text = spec.read_text(encoding="utf-8")
        edit(spec, old, new)
        try:
            return load_spec(spec).fingerprint()
        finally:
            spec.write_text(text, encoding="utf-8")

    # layout only: help texts, widths, the order of columns, a header's case and marker
    assert after('help: "What is measured."', 'help: "How we measure it."') == original
    assert (
        after(
            "{key: owner, header: Owner, type: text, required: true, width: 20,",
            "{key: owner, header: Owner, type: text, required: true, width: 30,",
        )
        == original
    )
    text = spec.read_text(encoding="utf-8")
    spec.write_text(text.replace(METRIC, "", 1).replace("      - " + NOTES, METRIC + "      - " + NOTES, 1))
    assert load_spec(spec).fingerprint() == original  # Metric moved before Notes: columns are found by header
    spec.write_text(text, encoding="utf-8")
    assert (
        after("{key: expected_impact, header: Expected impact,", "{key: expected_impact, header: expected  IMPACT*,")
        == original
    )
    # what reading depends on
    assert after(METRIC, "") != original
    assert after(NOTES, "{key: notes, header: Comments,") != original
    assert (
        after(
            "{key: baseline, header: Baseline, type: number, width: 10, help: \"Where the metric",
            "{key: baseline, header: Baseline, type: integer, width: 10, help: \"Where the metric",
        )
        != original
    )
    assert after("choices: [Team, Individual]", "choices: [Team, Individual, Squad]") != original
    assert (
        after(
            "{key: owner, header: Owner, type: text, required: true, width: 16, help: \"The person accountable.\", "
            "role: owner}\n      - {key: budget",
            "{key: owner, header: Owner, type: text, width: 16, help: \"The person accountable.\", "
            "role: owner}\n      - {key: budget",
        )
        != original
    )
    assert after(METRIC, RISK + METRIC) != original


def test_template_signs_the_fingerprint_of_its_spec(cycle: Path):
    edit(cycle / "department.yaml", METRIC, RISK + METRIC)
    run("generate", cycle / "strategy.yaml", "-o", cycle / "outbox", "--department", "MKT")
    book = openpyxl.load_workbook(cycle / "outbox" / "FY2027_MKT.xlsx")
    sheet = {r[0]: r[1] for r in book[META_SHEET].iter_rows(values_only=True)}
    props = {p.name: p.value for p in book.custom_doc_props.props}
    fingerprint = load_spec(cycle / "department.yaml").fingerprint()
    assert fingerprint != load_spec("department").fingerprint()
    assert sheet["format_version"] == FORMAT_VERSION == "3" and sheet["spec_fingerprint"] == fingerprint
    assert props[META_PROPERTY_PREFIX + "spec_fingerprint"] == fingerprint
    meta = Metadata.from_mapping(sheet)
    key = load_key(cycle / "strategy.yaml")
    assert meta.signature == sign(meta, key)
    # the fingerprint is signed: the same metadata without it does not verify
    assert sign(Metadata(**{**meta.__dict__, "spec_fingerprint": ""}), key) != meta.signature


# ---- the scenes ---------------------------------------------------------------------------------------


def test_spec_edited_after_init_and_generate_is_read_with_the_bundled_spec(cycle: Path):
    """init, generate, fill; then 'Expected impact' is renamed and Metric removed in department.yaml,
    version left at 1.0. The templates were made from the spec init wrote, the bundled one: the return
    is read with it, the renamed column's values land under the new header, the removed one is named."""
    run("generate", cycle / "strategy.yaml", "-o", cycle / "outbox", "--department", "MKT")
    plan(cycle / "outbox" / "FY2027_MKT.xlsx", cycle / "returned" / "MKT.xlsx")
    edit(
        cycle / "department.yaml",
        "{key: expected_impact, header: Expected impact,",
        "{key: expected_impact, header: Expected result,",
    )
    edit(cycle / "department.yaml", METRIC, "")
    assert 'version: "1.0"' in (cycle / "department.yaml").read_text()

    found = reconcile(cycle)
    assert taken(cycle, "returned/MKT.xlsx")
    head, rows = master_rows(cycle / "master.xlsx")
    assert "Expected result" in head and "Metric" not in head
    assert rows["MKT-I01"]["Expected result"] == "40 enterprise leads"
    assert rows["MKT-I02"]["Expected result"] == "awareness +5 points"
    mine = [f for f in found if f["file"] == "returned/MKT.xlsx"]
    assert not [
        f
        for f in mine
        if f["code"] in ("extra-column", "missing-column", "spec-changed", "spec-mismatch", "required-missing")
    ], mine
    metric = [f for f in mine if f["code"] == "spec-column-not-in-master"]
    assert len(metric) == 1 and metric[0]["severity"] == "warning", metric
    assert "'Metric'" in metric[0]["message"] and metric[0]["rows"] == ROWS
    assert "the bundled department spec" in metric[0]["message"]
    assert str(cycle / "department.yaml") in metric[0]["message"]


def test_spec_edited_again_with_no_copy_left_warns_naming_each_column(cycle: Path):
    """The templates went out with a Risk column (department.yaml edited once, version 1.0); then Notes is
    renamed 'Comments' and Risk removed, version still 1.0, and no copy of the spec as sent is kept."""
    edit(cycle / "department.yaml", METRIC, RISK + METRIC)
    run("generate", cycle / "strategy.yaml", "-o", cycle / "outbox")
    codes = ("MKT", "SAL", "OPS", "FIN")
    for code in codes:
        plan(cycle / "outbox" / f"FY2027_{code}.xlsx", cycle / "returned" / f"{code}.xlsx", code)
    edit_after_sending(cycle / "department.yaml")

    reports = []
    for jobs in ("1", "2"):  # the worker pool reads it as one process does
        found = reconcile(cycle, "-j", jobs)
        reports.append(sorted((f["code"], f["file"], f["sheet"], f["cell"], f["message"]) for f in found))
        for code in codes:
            file = f"returned/{code}.xlsx"
            assert taken(cycle, file)
            mine = [f for f in found if f["file"] == file]
            assert not [f for f in mine if f["code"] in ("extra-column", "spec-mismatch")], mine
            changed = {f["message"].split("'")[1]: f for f in mine if f["code"] == "spec-changed"}
            assert set(changed) == {"Risk", "Notes"}, mine
            for header, f in changed.items():
                assert f["severity"] == "warning" and f["sheet"] == "Initiatives" and f["rows"] == ROWS
                assert (
                    f"the column '{header}' is not in the spec in use; its 2 value(s) (rows 5-6) are not in "
                    "the master" in f["message"]
                )
                assert "department@1.0" in f["message"] and str(cycle / "department.yaml") in f["message"]
            ws = openpyxl.load_workbook(cycle / "returned" / f"{code}.xlsx")["Initiatives"]
            assert changed["Risk"]["cell"] == f"{ws.cell(HEADER_ROW, headers(ws)['Risk']).column_letter}{HEADER_ROW}"
        head, rows = master_rows(cycle / "master.xlsx")
        assert "Comments" in head and "Risk" not in head
        assert rows["OPS-I01"]["Initiative"] == "OPS trade-show circuit"  # the rows themselves are taken
        assert rows["OPS-I01"]["Comments"] in (None, "")  # the Notes values are not: the warning says so
    assert reports[0] == reports[1]

    # the terminal lists them with -v, one per line
    result = run("reconcile", cycle / "strategy.yaml", cycle / "returned", "-o", cycle / "master.xlsx", "-v", code=None)
    assert "returned/MKT.xlsx: Initiatives!" in result.output and "warning spec-changed" in result.output


@pytest.mark.parametrize("copy", ["department as sent.yaml", "sent/department.yaml"])
def test_copy_of_the_spec_as_sent_is_found_by_its_fingerprint(cycle: Path, copy: str):
    """The same edits, but a copy of department.yaml as the templates were made from it was kept, beside
    it under another name or in a subfolder: the return is read with it, same name and version."""
    edit(cycle / "department.yaml", METRIC, RISK + METRIC)
    run("generate", cycle / "strategy.yaml", "-o", cycle / "outbox", "--department", "MKT")
    (cycle / copy).parent.mkdir(exist_ok=True)
    shutil.copyfile(cycle / "department.yaml", cycle / copy)
    plan(cycle / "outbox" / "FY2027_MKT.xlsx", cycle / "returned" / "MKT.xlsx")
    edit_after_sending(cycle / "department.yaml")

    found = reconcile(cycle)
    assert taken(cycle, "returned/MKT.xlsx")
    head, rows = master_rows(cycle / "master.xlsx")
    assert "Comments" in head and "Risk" not in head
    assert rows["MKT-I01"]["Comments"] == "book the booth early"  # read by its header as sent, 'Notes'
    assert rows["MKT-I02"]["Comments"] == "survey agency chosen"
    mine = [f for f in found if f["file"] == "returned/MKT.xlsx"]
    assert not [
        f for f in mine if f["code"] in ("extra-column", "spec-changed", "spec-mismatch", "optional-column-missing")
    ], mine
    risk = [f for f in mine if f["code"] == "spec-column-not-in-master"]
    assert len(risk) == 1 and risk[0]["rows"] == ROWS and "'Risk'" in risk[0]["message"], mine
    assert str(cycle / copy) in risk[0]["message"] and str(cycle / "department.yaml") in risk[0]["message"]


def test_sheet_removed_from_the_spec_after_sending_is_a_warning(cycle: Path):
    """A Risks sheet added to department.yaml for the templates, then taken out again, version 1.0 all
    along: the department's Risks rows are named by a warning, not an extra-sheet note."""
    sheet = (
        "  - key: risks\n    title: Risks\n    intro: One row per risk.\n    columns:\n"
        "      - {key: risk, header: Risk, type: text, required: true}\n"
        "      - {key: owner, header: Risk owner, type: text}\n"
    )
    spec = cycle / "department.yaml"
    spec.write_text(spec.read_text(encoding="utf-8") + sheet, encoding="utf-8")
    run("generate", cycle / "strategy.yaml", "-o", cycle / "outbox", "--department", "MKT")
    returned = plan(cycle / "outbox" / "FY2027_MKT.xlsx", cycle / "returned" / "MKT.xlsx")
    book = openpyxl.load_workbook(returned)
    book["Risks"].cell(HEADER_ROW + 1, headers(book["Risks"])["Risk"], "Booth not available")
    book.save(returned)
    edit(spec, sheet, "")

    found = reconcile(cycle)
    assert taken(cycle, "returned/MKT.xlsx")
    mine = [f for f in found if f["file"] == "returned/MKT.xlsx"]
    assert not [f for f in mine if f["code"] == "extra-sheet"], mine
    risks = [f for f in mine if f["code"] == "spec-changed"]
    assert len(risks) == 1 and risks[0]["sheet"] == "Risks" and HEADER_ROW + 1 in risks[0]["rows"], mine
    assert risks[0]["message"].startswith("the sheet 'Risks' is not in the spec in use;")


def test_spec_changed_without_columns_lost_is_one_warning_for_the_file(cycle: Path):
    """A choice list narrowed after sending: no column is lost, but the file says the spec changed."""
    edit(cycle / "department.yaml", METRIC, RISK + METRIC)
    run("generate", cycle / "strategy.yaml", "-o", cycle / "outbox", "--department", "MKT")
    plan(cycle / "outbox" / "FY2027_MKT.xlsx", cycle / "returned" / "MKT.xlsx")
    edit(cycle / "department.yaml", "choices: [Low, Medium, High]", "choices: [Low, Medium, High, Critical]")
    found = reconcile(cycle)
    changed = [f for f in found if f["code"] == "spec-changed"]
    assert len(changed) == 1 and changed[0]["file"] == "returned/MKT.xlsx" and changed[0]["sheet"] == ""
    assert "its rows were read with the spec in use" in changed[0]["message"]
    _, rows = master_rows(cycle / "master.xlsx")
    assert rows["MKT-I01"]["Risk"] == "High"


# ---- format 1: templates sent before the fingerprint --------------------------------------------------


def as_format_1(template: Path, key: bytes) -> Metadata:
    """Rewrite a template's metadata as format 1 wrote it (no spec_fingerprint), signed with the key."""
    book = openpyxl.load_workbook(template)
    ws = book[META_SHEET]
    pairs = {r[0]: r[1] for r in ws.iter_rows(values_only=True)}
    assert pairs.pop("spec_fingerprint")
    meta = Metadata(**{**Metadata.from_mapping(pairs).__dict__, "format_version": "1", "signature": ""})
    # format 1's signed text, spelt out: the eight fields joined by '|'
    text = "|".join(
        [
            meta.format_version,
            meta.kind,
            meta.cycle,
            meta.department,
            meta.spec_name,
            meta.spec_version,
            meta.fingerprint,
            meta.generated_at,
        ]
    )
    meta = Metadata(**{**meta.__dict__, "signature": hmac.new(key, text.encode(), hashlib.sha256).hexdigest()[:32]})
    assert sign(meta, key) == meta.signature
    ws.delete_rows(1, ws.max_row)
    for r, (name, value) in enumerate(meta.as_pairs(), 1):
        ws.cell(r, 1, name)
        ws.cell(r, 2, value)
    assert [ws.cell(r, 1).value for r in range(1, ws.max_row + 1)] == [
        "format_version",
        "kind",
        "cycle",
        "department",
        "spec_name",
        "spec_version",
        "fingerprint",
        "generated_at",
        "signature",
    ]
    props = book.custom_doc_props
    props.props = [p for p in props.props if not p.name.startswith(META_PROPERTY_PREFIX)]
    for name, value in meta.as_pairs():
        props.append(StringProperty(name=META_PROPERTY_PREFIX + name, value=value))
    book.save(template)
    return meta


def test_format_1_template_verifies_and_reconciles_as_before(cycle: Path):
    run("generate", cycle / "strategy.yaml", "-o", cycle / "outbox", "--department", "MKT")
    template = cycle / "outbox" / "FY2027_MKT.xlsx"
    as_format_1(template, load_key(cycle / "strategy.yaml"))
    plan(template, cycle / "returned" / "MKT.xlsx")

    found = reconcile(cycle)
    assert taken(cycle, "returned/MKT.xlsx")
    mine = [f for f in found if f["file"] == "returned/MKT.xlsx"]
    assert not [
        f
        for f in mine
        if f["code"] in ("signature-mismatch", "signature-unverified", "spec-changed", "extra-column", "spec-mismatch")
    ], mine
    _, rows = master_rows(cycle / "master.xlsx")
    assert rows["MKT-I01"]["Notes"] == "book the booth early"

    # a format-1 template carries no fingerprint: an edit of the same version is read with the spec in
    # use as before (the Notes values are named by extra-column), never refused
    edit(cycle / "department.yaml", NOTES, "{key: notes, header: Comments,")
    found = reconcile(cycle)
    assert taken(cycle, "returned/MKT.xlsx")
    mine = [f for f in found if f["file"] == "returned/MKT.xlsx"]
    assert not [f for f in mine if f["code"] in ("signature-mismatch", "spec-changed", "spec-mismatch")], mine
    extra = [f for f in mine if f["code"] == "extra-column"]
    assert len(extra) == 1 and "'Notes'" in extra[0]["message"] and extra[0]["rows"] == ROWS
