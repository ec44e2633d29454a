"""How a department template (and a check-in) is laid out for reading and print: row heights for its
wrapped text, number formats from the strategy's units and currency, and each sheet's print setup.

Kept apart from :mod:`cascadebook.template.department`, which writes the cells; this decides how they
look on screen and on paper (xlsx/layout.py, xlsx/printing.py, spec/units.py do the sums).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cascadebook.model import Department, Strategy
from cascadebook.spec.schema import Column, Spec
from cascadebook.spec.units import currency_format, number_format_for
from cascadebook.template.styles import NUMBER_FORMATS
from cascadebook.xlsx.layout import fit_width, merged_width, row_height
from cascadebook.xlsx.layout import header_height as header_row_height
from cascadebook.xlsx.printing import PageText, print_rows, print_setup

__all__ = [
    "PageText",
    "cell_number_format",
    "header_height",
    "input_sheet_print",
    "merged_height",
    "page_text",
    "print_setup",
    "unit_format",
]


def page_text(strategy: Strategy, department: Department | None, made: str, extra: str = "") -> PageText:
    """The page header and footer of a workbook for ``department`` (None: the master)."""
    who = f"{department.name} ({department.code})" if department is not None else ""
    return PageText(
        strategy.company, " ".join(p for p in (strategy.cycle, extra) if p), who, made.replace("T", " ")[:16]
    )


def cell_number_format(column_type: str, currency: str | None) -> str | None:
    """The number format of an input or reference cell of ``column_type``: money in the strategy's
    currency, the rest as the template has always shown them (a plain number as typed)."""
    if column_type == "currency":
        return currency_format(currency)
    return NUMBER_FORMATS.get(column_type)


def unit_format(spec: Spec | None, unit: Any, currency: str | None, values: Sequence[Any] = ()) -> str:
    """The number format of a row's values in ``unit``, by the spec's table when there is one."""
    if spec is not None:
        return spec.number_format(unit, currency, values)
    return number_format_for(unit, currency, None, values)


def header_height(columns: Sequence[Column], extra: Sequence[tuple[str, float]] = ()) -> float:
    """A header row tall enough for its wrapped headers (the required star included), two lines at least."""
    texts = [(c.header + (" *" if c.required else ""), c.width) for c in columns] + list(extra)
    return header_row_height(texts)


SHORT_TEXT = 34  # characters: a text this short is shown on one line of the Objectives sheet


def objective_widths(columns: Sequence[Column], objectives: Sequence[Any]) -> list[float]:
    """The Objectives sheet's widths: numbers wide enough for their format (150,000,000 with a currency
    sign would print as ###); text as wide as its longest value (short texts such as owners and metrics
    whole, up to ``SHORT_TEXT``), at most the spec's width beyond that (it wraps), and a column nobody filled in (often the
    description) only as wide as its header rather than a wide empty band across the page."""
    widths = []
    for col in columns:
        values = [getattr(o, col.key, None) for o in objectives]
        if col.type in ("number", "percent", "currency", "integer"):
            shown = [f"{v:,.0f}$" if isinstance(v, (int, float)) and not isinstance(v, bool) else "" for v in values]
            widths.append(max(col.width, fit_width(shown, col.width, 24)))
        elif col.type == "date":
            widths.append(col.width)
        else:
            widths.append(fit_width([*values, col.header], 6, max(col.width, SHORT_TEXT)))
    return widths


def merged_height(text: str, widths: Sequence[float], font_size: float = 11) -> float:
    """The height of a row whose ``text`` wraps in cells merged across columns of ``widths``."""
    return row_height([(text, merged_width(widths))], font_size)


def input_sheet_print(
    ws, page: PageText, columns: Sequence[Column], header_row: int, filled: int, last_col: int, extra_width: float = 0
) -> None:
    """An input sheet's print setup: landscape when wide, one page wide, its header row on every page,
    and the rows filled or prefilled plus a few blank ones (not every input row)."""
    width = sum(c.width for c in columns) + extra_width
    print_setup(
        ws,
        page,
        width=width,
        repeat=header_row,
        area=(print_rows(filled, header_row + 1), last_col),
    )
