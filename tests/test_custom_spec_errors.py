"""Every error a bad custom template spec can have (issue 17): each edit of the bundled department.yaml
below gives the one error written beside it, from the library and as a one-line CLI error, with no
traceback and nothing generated."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from cascadebook.cli import cli
from cascadebook.spec.schema import SpecError, load_spec
from conftest import ROOT

BUNDLED = (ROOT / "workbook_templates" / "department.yaml").read_text(encoding="utf-8")
METRIC = '{key: metric, header: Metric, type: text, width: 16, help: "What is measured."}'
FREQUENCY = "type: choice, choices: [Weekly, Monthly, Quarterly, Annually], width: 12"

# (name, (old, new) replaced once in the bundled spec, or the whole text, error after "<path>")
EDITS = [
    (
        "unknown top-level key",
        ('version: "1.0"', 'versoin: "1.0"'),
        ": versoin: unknown key 'versoin' (did you mean 'version'?)",
    ),
    (
        "not a mapping",
        "- name\n- version\n",
        ": expected a mapping of name, version, sheets, fields, unit_formats, review",
    ),
    (
        "unit formats not a mapping",
        (
            'unit_formats:\n  "%": "0.0%"\n  count: "#,##0"\n  ratio: "0.00"\n  currency: "{currency}"\n',
            'unit_formats: "0.0%"\n',
        ),
        ": unit_formats: expected a mapping of unit to number format",
    ),
    (
        "unit format not a format",
        ('  ratio: "0.00"\n', "  ratio: 0.5\n"),
        ": unit_formats: 'ratio': expected a number format such as '#,##0'",
    ),
    (
        "sheet not a mapping",
        "name: department\nsheets:\n  - initiatives\n",
        ": sheets[0]: expected a mapping of key, title, intro, id_prefix, prefilled_rows, input_rows, columns, role",
    ),
    (
        "unknown sheet key",
        ("    id_prefix: I\n", "    id_prefx: I\n"),
        ": sheets[0].id_prefx: unknown key 'id_prefx' (did you mean 'id_prefix'?)",
    ),
    (
        "sheet without key",
        ("  - key: initiatives\n    title: Initiatives", "  - title: Initiatives"),
        ": sheets[0]: sheet needs 'key'",
    ),
    (
        "rows not a number",
        ("prefilled_rows: 12", "prefilled_rows: twelve"),
        ": sheets[0]: invalid literal for int() with base 10: 'twelve'",
    ),
    (
        "unknown column key",
        (METRIC, METRIC.replace("width:", "widht:")),
        ": sheets[0].columns[4].widht: unknown key 'widht' (did you mean 'width'?)",
    ),
    (
        "column without header",
        (METRIC, METRIC.replace("header: Metric, ", "")),
        ": sheets[0].columns[4]: column needs 'header'",
    ),
    (
        "width not a number",
        (METRIC, METRIC.replace("width: 16", "width: wide")),
        ": sheets[0].columns[4]: could not convert string to float: 'wide'",
    ),
    (
        "unknown column type",
        (METRIC, METRIC.replace("type: text", "type: txt")),
        ": sheets[0].columns[4]: column 'metric' has unknown type 'txt'",
    ),
    (
        "choice without choices",
        (FREQUENCY, "type: choice, width: 12"),
        ": sheets[1].columns[9]: choice column 'frequency' needs choices",
    ),
    (
        "reference without source",
        ("type: reference, source: objectives,", "type: reference,"),
        ": sheets[0].columns[1]: reference column 'objective_id' needs a source",
    ),
    (
        "column key not snake_case",
        (METRIC, METRIC.replace("key: metric", "key: Metric Name")),
        ": sheets[0].columns[4]: column key 'Metric Name' must be snake_case",
    ),
    (
        "duplicate column keys",
        (METRIC, METRIC.replace("key: metric", "key: title")),
        ": sheets[0]: duplicate column keys",
    ),
    (
        "column not a mapping",
        (METRIC, "metric"),
        (
            ": sheets[0].columns[4]: expected a mapping of key, header, type, required, width, help, choices, source, "
            "prefilled, role"
        ),
    ),
]


def _write(folder: Path, edit) -> Path:
    if isinstance(edit, str):
        text = edit
    else:
        old, new = edit
        assert BUNDLED.count(old) >= 1, old
        text = BUNDLED.replace(old, new, 1)
    path = folder / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("name,edit,error", EDITS, ids=[e[0] for e in EDITS])
def test_each_mistake_in_a_spec_is_its_own_error(tmp_path, name, edit, error):
    path = _write(tmp_path, edit)
    with pytest.raises(SpecError) as raised:
        load_spec(path)
    assert str(raised.value) == f"{path}{error}"


@pytest.mark.parametrize("name,edit,error", EDITS, ids=[e[0] for e in EDITS])
def test_generate_with_a_bad_spec_is_a_one_line_error(strategy_path, tmp_path, name, edit, error):
    path = _write(tmp_path, edit)
    result = CliRunner().invoke(cli, ["generate", str(strategy_path), "--spec", str(path), "-o", str(tmp_path / "o")])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert f"{path}{error}" in " ".join(result.output.split())  # click may wrap a long line
    assert "Traceback" not in result.output and not (tmp_path / "o").exists()


def test_a_spec_that_cannot_be_read_or_found(tmp_path):
    with pytest.raises(SpecError) as raised:
        load_spec(tmp_path / "nowhere.yaml")
    assert str(raised.value) == f"cannot read the template spec {tmp_path / 'nowhere.yaml'}: No such file or directory"
    with pytest.raises(SpecError) as raised:
        load_spec("nosuch")
    assert str(raised.value) == "no bundled template spec named 'nosuch'"
    broken = tmp_path / "broken.yaml"
    broken.write_text(BUNDLED.replace("sheets:\n", "sheets: [\n", 1), encoding="utf-8")
    with pytest.raises(SpecError) as raised:
        load_spec(broken)
    assert str(raised.value).startswith(f"{broken}: YAML syntax error at line ")
