"""Nothing lost, proven: for random filled templates with random damage, every row a department typed is
either in the master or named in a finding (rows-not-taken, extra-column, extra-sheet).

Rows are compared as sets of (file, sheet, row), so a row can be neither lost nor counted twice.
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cascadebook import generate, load_key, load_spec, load_strategy, reconcile, write_master
from cascadebook.spec.values import is_blank
from cascadebook.template.department import HEADER_ROW
from conftest import SAMPLE_STRATEGY

SPEC = load_spec()
FIRST = HEADER_ROW + 1
JUNK = [
    "n/a",
    "-",
    "ten",
    "=1+1",
    "+44",
    "@x",
    "TBD",
    "15%",
    "1.200,50",
    "$250k",
    "Q3 2027",
    "Q9",
    "CO9",
    "MKT-I99",
    "  ",
    "2027-13-45",
    "yes",
    "0",
    "-5",
]
TEXT = st.text(alphabet="abcdefghijklmnopqrstuvwxyz ABC0123456789.,-%$€", min_size=1, max_size=10)
VALUE = st.one_of(
    st.none(), st.none(), st.sampled_from(JUNK), st.integers(-1000, 10**6), st.floats(-1e6, 1e6, allow_nan=False), TEXT
)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("property")
    shutil.copyfile(SAMPLE_STRATEGY, root / "strategy.yaml")
    strategy = load_strategy(root / "strategy.yaml")
    key = load_key(root / "strategy.yaml", create=True)
    [template] = generate(strategy, root / "outbox", key=key, departments=["MKT"])
    return strategy, key, template


@st.composite
def damaged_workbook(draw):
    """Rows to type into each input sheet at random places, plus damage: extra column, extra sheet, sorting."""
    sheets = {}
    for sheet in SPEC.sheets:
        count = draw(st.integers(0, 6))
        places = draw(st.lists(st.integers(FIRST, FIRST + 60), min_size=count, max_size=count, unique=True))
        rows = []
        for place in places:
            values = {c.key: draw(VALUE) for c in sheet.input_columns}
            rows.append((place, values))
        sheets[sheet.key] = rows
    extra_column = draw(st.lists(st.integers(FIRST, FIRST + 60), max_size=3, unique=True))
    extra_sheet = draw(st.lists(st.integers(1, 40), max_size=4, unique=True))
    sort_ids = draw(st.booleans())
    older_copy = draw(st.booleans())
    return sheets, extra_column, extra_sheet, sort_ids, older_copy


def _write(template: Path, target: Path, damage, seed: int) -> None:
    sheets, extra_column, extra_sheet, sort_ids, _ = damage
    book = openpyxl.load_workbook(template)
    for sheet in SPEC.sheets:
        ws = book[sheet.title]
        position = {c.key: i for i, c in enumerate(sheet.columns, 1)}
        for place, values in sheets[sheet.key]:
            for key, value in values.items():
                cell = ws.cell(place, position[key])
                cell.value = value
                if isinstance(value, str):
                    cell.data_type = "s"  # typed text, even "=1+1"
        if sort_ids and sheet.prefilled_rows:  # sorted by some column: the prefilled ids move with the rows
            ids = [ws.cell(r, 1).value for r in range(FIRST, FIRST + sheet.prefilled_rows)]
            for r, value in zip(range(FIRST, FIRST + sheet.prefilled_rows), reversed(ids)):
                ws.cell(r, 1).value = value
    ws = book[SPEC.sheet("initiatives").title]
    far = len(SPEC.sheet("initiatives").columns) + 4  # beyond the template's own columns, no header
    for r in extra_column:
        ws.cell(r, far).value = f"side note {r}"
    if extra_sheet:
        notes = book.create_sheet("Notes")
        for r in extra_sheet:
            notes.cell(r, 1 + r % 3).value = f"idea {r}"
    book.save(target)


def _rows_in(path: Path, file: str) -> set[tuple[str, str, int]]:
    """What a person typed: rows below the header with a value outside the id and Check columns."""
    book = openpyxl.load_workbook(path, read_only=True)
    found = set()
    for name in book.sheetnames:
        ws = book[name]
        if name in ("Instructions", "Objectives", "_cascadebook"):
            continue
        spec_sheet = next((s for s in SPEC.sheets if s.title == name), None)
        rows = list(ws.iter_rows(values_only=True))
        if spec_sheet is None:
            found |= {(file, name, r) for r, row in enumerate(rows, 1) if any(not is_blank(v) for v in row)}
            continue
        header = [str(v or "").rstrip(" *") for v in rows[HEADER_ROW - 1]]
        skip = {0} | {c for c, h in enumerate(header) if h == "Check"}
        for r, row in enumerate(rows[HEADER_ROW:], FIRST):
            if any(not is_blank(v) for c, v in enumerate(row) if c not in skip):
                found.add((file, name, r))
    return found


def _rows_out(result, master: Path) -> set[tuple[str, str, int]]:
    book = openpyxl.load_workbook(master, read_only=True)
    found = set()
    for sheet in SPEC.sheets:
        rows = list(book[sheet.title].iter_rows(values_only=True))
        head = list(rows[0])
        for row in rows[1:]:
            if row[head.index("Source file")] is not None:
                found.add((row[head.index("Source file")], sheet.title, row[head.index("Source row")]))
    for f in result.findings:
        if f.code in ("rows-not-taken", "extra-column", "extra-sheet"):
            found |= {(f.file, f.sheet, r) for r in f.rows}
    return found


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damage=damaged_workbook(), seed=st.integers(0, 1000))
def test_rows_in_equal_rows_in_master_plus_rows_named_in_findings(world, damage, seed):
    strategy, key, template = world
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "returned"
        folder.mkdir()
        _write(template, folder / "plan.xlsx", damage, seed)
        if damage[4]:  # an older copy of the same department's workbook: superseded, its rows named
            shutil.copyfile(folder / "plan.xlsx", folder / "older.xlsx")
            from fill import _set_saved_at

            _set_saved_at(folder / "older.xlsx", datetime(2020, 1, 1))
        rows_in = set()
        for path in sorted(folder.iterdir()):
            rows_in |= _rows_in(path, f"returned/{path.name}")
        result = reconcile(strategy, [folder], key=key, jobs=1)
        master = write_master(result, Path(tmp) / "master.xlsx")
        assert _rows_out(result, master) == rows_in
