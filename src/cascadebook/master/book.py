"""The master's shared pieces: its data tables (written once, referred to by header), the writer that
holds the workbook, its formats and Excel's limits, and the helpers that build formulas over the tables.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any

import xlsxwriter

from cascadebook.spec.roles import (
    ROLES,
)
from cascadebook.spec.schema import SheetSpec, Spec
from cascadebook.spec.units import (
    CURRENCY_FORMATS,
    DEFAULT_UNIT_FORMATS,
    PERCENT_AS_NUMBER,
    PLAIN_FORMAT,
    WHOLE_FORMAT,
    currency_format,
    number_format_for,
)
from cascadebook.template.styles import INPUT_FILL, NUMBER_FORMATS, PREFILLED_FILL, header_format, title_format
from cascadebook.xlsx.addresses import a1, column_letter, quote_sheet
from cascadebook.xlsx.printing import PageText, print_setup
from cascadebook.xlsx.writer import (
    EXCEL_MAX_ROWS,
    SheetStream,
    add_table,
    continued_sheet,
    continued_table,
    write_rows,
    write_value,
)

MAX_HYPERLINKS = 65_530  # Excel's limit per worksheet
SEVERITY_COLOURS = {"error": "#F8CBAD", "warning": "#FFE699", "info": "#DDEBF7"}
GAP_FILL = "#FCE4D6"
# The Commitments sheet's columns: the strategy's objective (its own fields, not the department spec's),
# then what the departments commit. Where a column adds up a spec column of a role, it is headed as the
# spec heads it (commitment_headers); these are the bundled spec's words, for the layout's fixed places.
OBJECTIVE_COLUMNS = ("ID", "Objective", "Perspective", "Unit", "Direction", "Baseline", "Target")


def column_label(sheet: SheetSpec | None, role: str) -> str:
    """The master's header for the values of a spec column of ``role`` (spec/schema: ``label_of``)."""
    return sheet.label_of(role) if sheet is not None else ROLES[role].header


@dataclass
class Table:
    """A data table of the master: rows are written once; formulas refer to its columns by header.

    ``rows`` is a function that yields the rows when the table is written, and ``length`` says how
    many it will yield: the master never holds its rows as a second copy of the reconcile result
    (at 10,000 departments that copy alone was larger than the result).
    """

    sheet: str
    name: str
    headers: list[str]
    rows: Callable[[], Iterable[Sequence[Any]]]
    length: int
    formats: list[Any] | None = None
    widths: list[float] | None = None
    decorate: Callable[[Any, int, int], None] | None = None  # (ws, sheet row, index): after a row's cells
    # Columns shown in each row's unit (baseline, target, ...): the unit of a row, and those columns' positions
    unit: Callable[[Sequence[Any]], Any] | None = None
    unit_columns: tuple[int, ...] = ()
    finish: Callable[[Any, int], None] | None = None  # (ws, rows on it): after each sheet's rows (a dropdown)

    def chunks(self) -> list[tuple[str, int]]:
        """Sheets needed to hold the rows within Excel's row limit ('Sheet', 'Sheet (2)', ...) and
        how many rows each holds."""
        size = EXCEL_MAX_ROWS - 1
        cached = self.__dict__.get("_chunks")
        if cached is None or cached[0] != (size, self.length):  # asked once per formula cell
            counts = [min(size, self.length - start) for start in range(0, self.length, size)] or [0]
            cached = (size, self.length), [(continued_sheet(self.sheet, i + 1), n) for i, n in enumerate(counts)]
            self.__dict__["_chunks"] = cached
        return cached[1]

    def ranges(self, header: str) -> list[str]:
        col = column_letter(self.headers.index(header) + 1)
        return [f"{quote_sheet(sheet)}!${col}$2:${col}${max(n, 1) + 1}" for sheet, n in self.chunks()]


def sum_over(function: str, table: Table, *args: str | tuple[str, str]) -> str:
    """COUNTIF / SUMIF / COUNTIFS over every chunk of a table, added together.

    ``args`` are column headers (turned into ranges) or ("lit", text) for criteria.
    """
    parts = []
    for i in range(len(table.chunks())):
        items = [a[1] if isinstance(a, tuple) else table.ranges(a)[i] for a in args]
        parts.append(f"{function}({','.join(items)})")
    return "+".join(parts)


def literal(text: str) -> tuple[str, str]:
    return ("lit", '"' + text.replace('"', '""') + '"')


def cell_ref(row: int, col: int, absolute_col: bool = True) -> tuple[str, str]:
    return ("lit", ("$" if absolute_col else "") + a1(row, col))


class MasterWriter:
    """The workbook being written, its formats, and Excel's limits as they stand when it is written
    (``max_rows``, ``max_hyperlinks``: module attributes here, so a test can lower them)."""

    def __init__(self, book: xlsxwriter.Workbook, result: Any = None):
        """``result`` (the Reconciliation) gives the unit formats (its spec), the currency and the page
        header and footer (company, cycle, when it was reconciled)."""
        self.book = book
        strategy = getattr(result, "strategy", None)
        self.spec: Spec | None = getattr(result, "spec", None)
        self.currency = getattr(strategy, "currency", "") or ""
        self.page = (
            PageText(
                strategy.company, strategy.cycle, "", str(getattr(result, "generated_at", "")).replace("T", " ")[:16]
            )
            if strategy is not None
            else None
        )
        self.max_rows = EXCEL_MAX_ROWS  # of a sheet, its header row included
        self.max_hyperlinks = MAX_HYPERLINKS
        add = book.add_format
        self.title = add(title_format(16))
        self.subtitle = add(title_format(12))
        self.header = add(header_format())
        self.label = add({"bold": True, "valign": "top"})
        self.wrap = add({"text_wrap": True, "valign": "top"})
        self.gap = add({"bg_color": GAP_FILL, "border": 1, "border_color": "#BFBFBF", "valign": "top"})
        self.cell = add(
            {"text_wrap": True, "valign": "top", "border": 1, "border_color": "#BFBFBF", "font_color": "#1F3864"}
        )
        self.missing = add(
            {
                "italic": True,
                "font_color": "#808080",
                "bg_color": "#EDEDED",
                "border": 1,
                "border_color": "#BFBFBF",
                "valign": "top",
            }
        )
        self.link = add({"font_color": "#0563C1", "underline": 1})
        self.percent = add({"num_format": "0%"})
        self.money_format = currency_format(self.currency)  # budgets and caps, wherever the master shows them
        self.money = add({"num_format": self.money_format})
        self.total = add({"bold": True, "top": 1})
        self.total_money = add({"bold": True, "top": 1, "num_format": currency_format(self.currency)})
        self.severity = {k: add({"bg_color": v}) for k, v in SEVERITY_COLOURS.items()}
        self.bad = add({"bg_color": "#F8CBAD"})
        self.warn = add({"bg_color": "#FFE699"})
        self.good = add({"bg_color": "#C6EFCE"})
        # the Goal Hierarchy's goals by level, wrapped (their rows are as tall as their text; at the
        # top like the row's other cells: self.top, self.wrap, numbers and dates)
        self.levels = [
            add({"bold": True, "font_size": 12, "bg_color": "#D9E1F2", "text_wrap": True, "valign": "top"}),
            add({"bold": True, "align": "left", "indent": 1, "text_wrap": True, "valign": "top"}),
            add({"align": "left", "indent": 2, "text_wrap": True, "valign": "top"}),
            add({"align": "left", "indent": 3, "italic": True, "text_wrap": True, "valign": "top"}),
        ]
        self.top = add({"valign": "top"})
        self._formats: dict[str, Any] = {}
        self._review: dict[tuple[str, str], Any] = {}

    def indented(self, level: int, total: bool = False):
        """A unit's label in a view grouped by the org tree: bold, indented by its depth (0 at level 1);
        ``total`` for a group's subtotal row."""
        key = f"indent:{level}:{total}"
        if key not in self._formats:
            props: dict[str, Any] = {"bold": True, "valign": "top", "indent": min(level, 15)}
            self._formats[key] = self.book.add_format({**props, "top": 1} if total else props)
        return self._formats[key]

    def review(self, kind: str, column_type: str):
        """A review column's cells: ``review-input`` unlocked and shaded as a template's inputs (finance
        types there), ``review-locked`` grey (reconcile writes them), in the column type's number format."""
        found = self._review.get((kind, column_type))
        if found is None:
            num = currency_format(self.currency) if column_type == "currency" else NUMBER_FORMATS.get(column_type)
            props: dict[str, Any] = {"valign": "top", "border": 1, "border_color": "#BFBFBF"}
            if num:
                props["num_format"] = num
            if kind == "review-input":
                props.update(bg_color=INPUT_FILL, locked=False)
            else:
                props.update(bg_color=PREFILLED_FILL)
            found = self._review[(kind, column_type)] = self.book.add_format(props)
        return found

    def numeric(self, num_format: str | None):
        key = num_format or ""
        if key not in self._formats:
            self._formats[key] = self.book.add_format(
                {"num_format": num_format, "valign": "top"} if num_format else {"valign": "top"}
            )
        return self._formats[key]

    def typed(self, column_type: str):
        if column_type == "currency":
            return self.numeric(currency_format(self.currency))
        return self.numeric(NUMBER_FORMATS.get(column_type))

    def unit_format(self, unit: Any, values: Sequence[Any] = ()) -> str:
        """The number format of values in ``unit`` (the spec's ``unit_formats``, the strategy's currency)."""
        if self.spec is not None:
            return self.spec.number_format(unit, self.currency, values)
        return number_format_for(unit, self.currency, None, values)

    def unit(self, unit: Any, values: Sequence[Any] = ()):
        return self.numeric(self.unit_format(unit, values))

    def unit_formats(self) -> list[str]:
        """Every number format :meth:`unit_format` gives for the units of the spec's table and the
        currencies with a sign: created up front where rows are rendered out of order."""
        table = dict(self.spec.unit_formats) if self.spec is not None else {}
        units = [*DEFAULT_UNIT_FORMATS, *table, *CURRENCY_FORMATS]
        found = {self.unit_format(u) for u in units} | {PLAIN_FORMAT, WHOLE_FORMAT, PERCENT_AS_NUMBER}
        return sorted(found)

    def value(self, ws, r: int, c: int, value: Any, fmt=None) -> None:
        write_value(ws, r, c, value, fmt)

    def header_row(self, ws, r: int, headers: Sequence[str], widths: Sequence[float] | None = None) -> None:
        for c, h in enumerate(headers):
            ws.write_string(r, c, h, self.header)
            if widths:
                ws.set_column(c, c, widths[c])

    def table(self, table: Table) -> list:
        """Write a table (continued on further sheets past Excel's row limit) with a filter row."""
        sheets = []
        rows = iter(table.rows())
        for sheet_name, count in table.chunks():
            ws = self.sheet(sheet_name, landscape=True)
            add_table(
                ws,
                0,
                0,
                max(count, 1),
                len(table.headers) - 1,
                {
                    "name": continued_table(table.name, len(sheets) + 1),
                    "style": "Table Style Medium 2",
                    "columns": [{"header": h} for h in table.headers],
                },
                self.header,
            )
            offset = len(sheets) * (EXCEL_MAX_ROWS - 1)
            formats = table.formats or [None] * len(table.headers)
            chunk = islice(rows, count)
            if table.decorate is None and SheetStream.supported(ws):
                stream = SheetStream(ws, 1, date_format=self.typed("date"))
                if table.unit is None:
                    for row in chunk:
                        stream.row(row, formats)
                else:
                    in_unit = self._in_unit(table, formats)
                    for row in chunk:
                        stream.row(row, in_unit(row))
                stream.close()
            elif table.unit is None:
                write_rows(ws, 1, chunk, formats, table.decorate, offset - 1, date_format=self.typed("date"))
            else:
                in_unit = self._in_unit(table, formats)
                for r, row in enumerate(chunk, 1):
                    write_rows(ws, r, (row,), in_unit(row), table.decorate, offset - 1, date_format=self.typed("date"))
            for c, width in enumerate(table.widths or [16] * len(table.headers)):
                ws.set_column(c, c, width)
            if table.finish is not None:
                table.finish(ws, count)
            ws.freeze_panes(1, 0)
            sheets.append(ws)
        return sheets

    def _in_unit(self, table: Table, formats: Sequence[Any]) -> Callable[[Sequence[Any]], Sequence[Any]]:
        """A row's formats: the table's, with its unit columns in the row's unit (one list per format)."""
        made: dict[str, list[Any]] = {}
        unit_of, columns = table.unit, table.unit_columns
        assert unit_of is not None

        def formats_of(row: Sequence[Any]) -> Sequence[Any]:
            key = self.unit_format(unit_of(row), [row[c] for c in columns])
            found = made.get(key)
            if found is None:
                found = made[key] = list(formats)
                for c in columns:
                    found[c] = self.numeric(key)
            return found

        return formats_of

    def sheet(self, name: str, *, landscape: bool = True, repeat_header: bool = True):
        """A worksheet set up for review and print: landscape, one page wide, header row repeated, the
        company, cycle and sheet in the page header, when it was reconciled and the page in the footer."""
        ws = self.book.add_worksheet(name)
        print_setup(ws, self.page, landscape=landscape, repeat=0 if repeat_header else None)
        return ws


def resolve_formats(w: MasterWriter, tables: dict[str, Table]) -> None:
    for table in tables.values():
        if table.formats:
            table.formats = [_resolved(w, f) for f in table.formats]


def _resolved(w: MasterWriter, fmt: Any) -> Any:
    """A table's format named by text: ``type:currency`` (a column type) or ``review-input:currency``."""
    if not isinstance(fmt, str):
        return fmt
    kind, _, column_type = fmt.partition(":")
    return w.typed(column_type) if kind == "type" else w.review(kind, column_type)


def write_formula(ws, r: int, c: int, formula: str, value: Any, fmt=None) -> None:
    ws.write_formula(r, c, "=" + formula, fmt, value)
