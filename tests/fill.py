"""Filling a template the way a person would, with openpyxl: for samples, tests and demos.

It types into cells of an existing workbook and saves a copy; the source is never modified.
Values are written as given, so ``"15%"`` lands as text, exactly like a pasted value.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from cascadebook.atomic import atomic_path
from cascadebook.spec.schema import Spec, load_spec
from cascadebook.template.department import HEADER_ROW
from cascadebook.xlsx.addresses import parse_a1


def fill_workbook(
    source: str | Path,
    target: str | Path,
    cells: Mapping[str, Any] | None = None,
    *,
    rows: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
    spec: Spec | None = None,
    saved_at: datetime | None = None,
) -> Path:
    """Copy ``source`` to ``target`` with values typed in.

    ``cells`` maps ``"Sheet!C5"`` to a value; ``rows`` maps a spec sheet key to row dicts keyed by
    column key, typed from the first data row down (a row's ``id`` is kept unless given).
    ``saved_at`` sets the "last saved" time that reconcile uses to pick the newest submission
    (openpyxl always stamps "now", so it is patched into the package afterwards).
    """
    import openpyxl

    spec = spec or load_spec("department")
    book = openpyxl.load_workbook(source)
    for sheet_key, items in (rows or {}).items():
        sheet = spec.sheet(sheet_key)
        ws = book[sheet.title]
        positions = {col.key: c for c, col in enumerate(sheet.columns, 1)}
        for r, item in enumerate(items, HEADER_ROW + 1):
            for key, value in item.items():
                ws.cell(row=r, column=positions[key], value=value)
    for ref, value in (cells or {}).items():
        sheet_name, a1 = ref.rsplit("!", 1)
        row, col = parse_a1(a1)
        book[sheet_name.strip("'")].cell(row=row, column=col, value=value)
    target = Path(target)
    with atomic_path(target) as tmp:
        book.save(tmp)
        if saved_at is not None:
            _set_saved_at(tmp, saved_at)
    return target


def _set_saved_at(path: Path, saved_at: datetime) -> None:
    stamp = saved_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    with zipfile.ZipFile(path) as src:
        parts = [(info, src.read(info)) for info in src.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info, data in parts:
            if info.filename == "docProps/core.xml":
                data = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                    rb"\g<1>" + stamp.encode() + rb"\g<2>",
                    data,
                )
            dst.writestr(info, data)
