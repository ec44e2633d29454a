"""The xlsxwriter formats and data validations of a department template, made once per workbook.

Kept apart from :mod:`cascadebook.template.department` (which lays the cells out) so the template's
look is read in one place; the colours themselves are shared with the master (template/styles.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import xlsxwriter

from cascadebook.intake.formulas import id_range_name
from cascadebook.model import Strategy
from cascadebook.spec.schema import Column, Spec
from cascadebook.template.layout import cell_number_format
from cascadebook.template.styles import (
    INPUT_FILL,
    NUMBER_FORMATS,
    PREFILLED_FILL,
    PROBLEM_FILL,
    PROBLEM_FONT,
    READY_FILL,
    READY_FONT,
    header_format,
    intro_format,
    title_format,
)

if TYPE_CHECKING:
    from cascadebook.template.decisions import DecisionFormats


@dataclass
class Formats:
    book: xlsxwriter.Workbook
    currency: str = ""  # the strategy's: money cells are shown in it
    decisions: DecisionFormats | None = None  # a template showing finance's decisions (template/decisions.py)

    def __post_init__(self) -> None:
        add = self.book.add_format
        self.title = add(title_format(14))
        self.intro = add(intro_format())
        self.header = add(header_format())
        self.label = add({"bold": True, "valign": "top"})
        self.plain = add({})
        self.unseen = add({"num_format": ";;;"})
        self.wrap = add({"text_wrap": True, "valign": "top"})
        self.date = add({"num_format": NUMBER_FORMATS["date"], "align": "left"})
        self.prefilled = add({"bg_color": PREFILLED_FILL, "border": 1, "border_color": "#BFBFBF"})
        self.legend_input = add({"bg_color": INPUT_FILL, "border": 1, "border_color": "#BFBFBF", "text_wrap": True})
        self.check = add(
            {"font_color": PROBLEM_FONT, "valign": "top", "text_wrap": True, "border": 1, "border_color": "#BFBFBF"}
        )
        self.status = add({"bold": True, "text_wrap": True, "valign": "top"})
        self.problem = add({"bg_color": PROBLEM_FILL, "font_color": PROBLEM_FONT})
        self.ready = add({"bg_color": READY_FILL, "font_color": READY_FONT})
        self.legend_problem = add(
            {
                "bg_color": PROBLEM_FILL,
                "font_color": PROBLEM_FONT,
                "border": 1,
                "border_color": "#BFBFBF",
                "text_wrap": True,
                "valign": "top",
            }
        )
        self._inputs: dict[str, object] = {}
        self._refs: dict[str, object] = {}
        self._units: dict[tuple[str, bool], object] = {}

    def unit(self, num_format: str, wrap: bool = False):
        """A reference cell in a unit's number format (spec/units.py)."""
        if (num_format, wrap) not in self._units:
            self._units[(num_format, wrap)] = self.book.add_format({"valign": "top", "num_format": num_format})
        return self._units[(num_format, wrap)]

    def input(self, column_type: str):
        if column_type not in self._inputs:
            props = {"locked": False, "bg_color": INPUT_FILL, "border": 1, "border_color": "#BFBFBF", "valign": "top"}
            if cell_number_format(column_type, self.currency):
                props["num_format"] = cell_number_format(column_type, self.currency)
            if column_type == "text":
                props["text_wrap"] = True
            self._inputs[column_type] = self.book.add_format(props)
        return self._inputs[column_type]

    def reference(self, column_type: str):
        if column_type not in self._refs:
            props = {"valign": "top", "text_wrap": column_type == "text"}
            if cell_number_format(column_type, self.currency):
                props["num_format"] = cell_number_format(column_type, self.currency)
            self._refs[column_type] = self.book.add_format(props)
        return self._refs[column_type]


def validation(col: Column, strategy: Strategy, spec: Spec) -> dict | None:
    message = {"input_title": col.header[:32], "input_message": col.help[:255]} if col.help else {}
    if col.type == "choice":
        return {"validate": "list", "source": list(col.choices), **message}
    if col.type == "period":
        return {"validate": "list", "source": list(strategy.periods), **message}
    if col.type == "reference":
        name = "ObjectiveIds" if col.source == "objectives" else id_range_name(spec.sheet(col.source or ""))
        return {"validate": "list", "source": f"={name}", **message}
    if col.type in ("number", "percent", "currency", "integer"):
        return {
            "validate": "decimal",
            "criteria": "between",
            "minimum": -1e15,
            "maximum": 1e15,
            "error_type": "warning",
            "error_title": "Number expected",
            "error_message": f"{col.header} should be a number.",
            **message,
        }
    if col.type == "date":
        return {
            "validate": "date",
            "criteria": ">",
            "value": datetime(1990, 1, 1),
            "error_type": "warning",
            "error_title": "Date expected",
            "error_message": f"{col.header} should be a date.",
            **message,
        }
    return {"validate": "any", **message} if message else None
