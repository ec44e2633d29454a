"""The floor for ``generate``: the same department templates in straight-line xlsxwriter code.

Every cell, format, column width, merge, validation, defined name, protection and property that
``cascadebook.templates.write_template`` writes is written here too (bench.py checks the parts
against a real template), but everything that is the same for every department -- format
properties, validation dicts, the objectives' cells, the spec -- is worked out once, and each
department costs only its xlsxwriter calls. This is what a hand-tuned single-process generator
would spend; the library is measured against it.
"""
from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any, Callable

import xlsxwriter

from cascadebook.spec import load_spec
from cascadebook.templates import (
    HEADER_FILL, HEADER_ROW, INPUT_FILL, META_PROPERTY_PREFIX, META_SHEET, NUMBER_FORMATS, PREFILLED_FILL,
    PROTECT_OPTIONS, make_metadata, template_filename,
)

BASE_FORMATS = {
    "title": {"bold": True, "font_size": 14, "font_color": HEADER_FILL},
    "intro": {"italic": True, "font_color": "#404040", "text_wrap": True, "valign": "top"},
    "header": {"bold": True, "font_color": "#FFFFFF", "bg_color": HEADER_FILL, "text_wrap": True,
               "valign": "vcenter", "border": 1},
    "label": {"bold": True},
    "plain": {},
    "wrap": {"text_wrap": True, "valign": "top"},
    "date": {"num_format": NUMBER_FORMATS["date"], "align": "left"},
    "prefilled": {"bg_color": PREFILLED_FILL, "border": 1, "border_color": "#BFBFBF"},
    "legend_input": {"bg_color": INPUT_FILL, "border": 1, "border_color": "#BFBFBF"},
}


def _input_props(column_type: str) -> dict:
    props = {"locked": False, "bg_color": INPUT_FILL, "border": 1, "border_color": "#BFBFBF", "valign": "top"}
    if column_type in NUMBER_FORMATS:
        props["num_format"] = NUMBER_FORMATS[column_type]
    if column_type == "text":
        props["text_wrap"] = True
    return props


def _ref_props(column_type: str) -> dict:
    props = {"valign": "top", "text_wrap": column_type == "text"}
    if column_type in NUMBER_FORMATS:
        props["num_format"] = NUMBER_FORMATS[column_type]
    return props


def _validation(col, strategy, spec) -> dict | None:
    message = {"input_title": col.header[:32], "input_message": col.help[:255]} if col.help else {}
    if col.type == "choice":
        return {"validate": "list", "source": list(col.choices), **message}
    if col.type == "period":
        return {"validate": "list", "source": list(strategy.periods), **message}
    if col.type == "reference":
        name = "ObjectiveIds" if col.source == "objectives" else spec.sheet(col.source).title.replace(" ", "") + "Ids"
        return {"validate": "list", "source": f"={name}", **message}
    if col.type in ("number", "percent", "currency", "integer"):
        return {"validate": "decimal", "criteria": "between", "minimum": -1e15, "maximum": 1e15,
                "error_type": "warning", "error_title": "Number expected",
                "error_message": f"{col.header} should be a number.", **message}
    if col.type == "date":
        return {"validate": "date", "criteria": ">", "value": datetime(1990, 1, 1), "error_type": "warning",
                "error_title": "Date expected", "error_message": f"{col.header} should be a date.", **message}
    return {"validate": "any", **message} if message else None


def bare_generate(strategy, outbox: Path, key: bytes | None, generated_at: str) -> Callable[[], int]:
    """Prepare everything department-independent; return the timed loop (templates written)."""
    spec = load_spec("department")
    objectives_sheet = load_spec("strategy").sheet("objectives")
    formats = dict(BASE_FORMATS)
    for sheet in spec.sheets:
        for col in sheet.columns:
            if col.is_input:
                formats["in:" + col.type] = _input_props(col.type)
        formats.setdefault("in:text", _input_props("text"))
    for col in objectives_sheet.columns:
        formats["ref:" + col.type] = _ref_props(col.type)

    # the objectives' cells, the same in every template
    objective_cells: list[tuple[int, int, str, Any, str]] = []
    for r, objective in enumerate(strategy.objectives, 1):
        for c, col in enumerate(objectives_sheet.columns):
            value = getattr(objective, col.key)
            fmt = "ref:" + col.type
            if value is None or value == "":
                objective_cells.append((r, c, "blank", None, fmt))
            elif isinstance(value, (int, float)) and not isinstance(value, bool):
                objective_cells.append((r, c, "number", value, fmt))
            elif isinstance(value, date):
                objective_cells.append((r, c, "datetime", datetime(value.year, value.month, value.day), fmt))
            else:
                objective_cells.append((r, c, "string", str(value), fmt))
    n_obj = len(strategy.objectives)
    sheets = []
    for sheet in spec.sheets:
        columns = [(c, col.header + (" *" if col.required else ""), col.width,
                    ("in:" + col.type) if col.is_input else None, _validation(col, strategy, spec))
                   for c, col in enumerate(sheet.columns)]
        inputs = [(c, "in:" + col.type) for c, col in enumerate(sheet.columns) if col.is_input]
        id_col = next((c for c, col in enumerate(sheet.columns) if col.prefilled), None)
        sheets.append((sheet, columns, inputs, id_col))
    steps = ["1. Read the corporate objectives on the Objectives sheet.",
             *[f"{i}. {sheet.title}: {sheet.intro}" for i, sheet in enumerate(spec.sheets, 2)],
             f"{len(spec.sheets) + 2}. Save the workbook (keep the .xlsx format) and send it back. "
             "Renaming the file is fine: the workbook identifies itself."]
    contact = " ".join(p for p in (strategy.contact_name, f"<{strategy.contact_email}>") if p.strip("<>"))
    deadline = strategy.response_deadline
    departments = sorted(strategy.departments, key=lambda d: d.code)

    def one(department) -> None:
        meta = make_metadata(strategy, department, spec, generated_at, key)
        path = outbox / template_filename(strategy.cycle, department.code)
        book = xlsxwriter.Workbook(str(path), {"in_memory": True, "strings_to_formulas": False,
                                               "strings_to_urls": False})
        f = {name: book.add_format(props) for name, props in formats.items()}
        book.set_properties({
            "title": f"{strategy.cycle} goal plan - {department.name}", "company": strategy.company,
            "comments": "Generated by cascadebook. Fill in the shaded cells and send the workbook back.",
            "created": datetime(2000, 1, 1)})
        pairs = meta.as_pairs()
        for name, value in pairs:
            book.set_custom_property(META_PROPERTY_PREFIX + name, value)

        ws = book.add_worksheet("Instructions")
        ws.set_column(0, 0, 24)
        ws.set_column(1, 1, 90)
        ws.hide_gridlines(2)
        ws.write_string(0, 0, f"{strategy.cycle} goal plan — {department.name} ({department.code})", f["title"])
        facts = [("Company", strategy.company), ("Department head", department.head), ("Please return by", deadline),
                 ("Questions to", contact), ("Vision", strategy.vision), ("Mission", strategy.mission)]
        r = 2
        for label, value in facts:
            ws.write_string(r, 0, label, f["label"])
            if isinstance(value, date):
                ws.write_datetime(r, 1, datetime(value.year, value.month, value.day), f["date"])
            else:
                ws.write_string(r, 1, str(value or ""), f["wrap"])
            r += 1
        r += 1
        ws.write_string(r, 0, "What to do", f["label"])
        for step in steps:
            ws.write_string(r, 1, step, f["wrap"])
            r += 1
        r += 1
        ws.write_string(r, 0, "Colour legend", f["label"])
        ws.write_string(r, 1, "Shaded cells are yours to fill in.", f["legend_input"])
        ws.write_string(r + 1, 1, "Grey cells are prefilled ids: keep them.", f["prefilled"])
        ws.write_string(r + 2, 1, "Everything else is protected reference material.")
        ws.protect("", PROTECT_OPTIONS)
        ws.activate()

        ws = book.add_worksheet(objectives_sheet.title)
        for c, col in enumerate(objectives_sheet.columns):
            ws.set_column(c, c, col.width)
            ws.write_string(0, c, col.header, f["header"])
        for r, c, kind, value, fmt in objective_cells:
            if kind == "string":
                ws.write_string(r, c, value, f[fmt])
            elif kind == "number":
                ws.write_number(r, c, value, f[fmt])
            elif kind == "datetime":
                ws.write_datetime(r, c, value, f[fmt])
            else:
                ws.write_blank(r, c, None, f[fmt])
        ws.freeze_panes(1, 1)
        ws.autofilter(0, 0, max(n_obj, 1), len(objectives_sheet.columns) - 1)
        ws.protect("", PROTECT_OPTIONS)
        book.define_name("ObjectiveIds", f"='{objectives_sheet.title}'!$A$2:$A${n_obj + 1}")

        header_idx = HEADER_ROW - 1
        for sheet, columns, inputs, id_col in sheets:
            ws = book.add_worksheet(sheet.title)
            first, last = header_idx + 1, header_idx + sheet.input_rows
            ws.write_string(0, 0, f"{sheet.title} — {department.name} ({department.code}), {strategy.cycle}",
                            f["title"])
            ws.merge_range(1, 0, 1, min(len(columns) - 1, 7), sheet.intro, f["intro"])
            ws.set_row(1, 32)
            ws.set_row(header_idx, 30)
            for c, header, width, fmt, validation in columns:
                ws.write_string(header_idx, c, header, f["header"])
                ws.set_column(c, c, width, f[fmt] if fmt else None)
                if validation:
                    ws.data_validation(first, c, last, c, validation)
            cell_inputs = [(c, f[fmt]) for c, fmt in inputs]
            prefilled, id_blank = f["prefilled"], f["in:text"]
            for r in range(first, last + 1):
                number = r - first + 1
                if id_col is not None:
                    if number <= sheet.prefilled_rows:
                        ws.write_string(r, id_col, f"{department.code}-{sheet.id_prefix}{number:02d}", prefilled)
                    else:
                        ws.write_blank(r, id_col, None, id_blank)
                for c, cell_format in cell_inputs:
                    ws.write_blank(r, c, None, cell_format)
            for r in (0, 2):
                for c in range(1 if r == 0 else 0, len(columns)):
                    ws.write_blank(r, c, None, f["plain"])
            ws.freeze_panes(HEADER_ROW, 1)
            ws.autofilter(header_idx, 0, last, len(columns) - 1)
            ws.protect("", PROTECT_OPTIONS)
            book.define_name(sheet.title.replace(" ", "") + "Ids",
                             "='" + sheet.title.replace("'", "''") + f"'!$A${first + 1}:$A${last + 1}")

        ws = book.add_worksheet(META_SHEET)
        for r, (name, value) in enumerate(pairs):
            ws.write_string(r, 0, name)
            ws.write_string(r, 1, value)
        ws.protect("", {"select_locked_cells": False, "select_unlocked_cells": False})
        ws.very_hidden()
        book.close()

    def run() -> int:
        outbox.mkdir(parents=True, exist_ok=True)
        for department in departments:
            one(department)
        return len(departments)
    return run
