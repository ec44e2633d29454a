"""Writing a strategy as a workbook (the format finance people edit), from the same spec it is read with."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import xlsxwriter

from cascadebook.atomic import atomic_path
from cascadebook.kinds import STRATEGY, stamp
from cascadebook.model import Strategy
from cascadebook.spec.schema import load_spec
from cascadebook.xlsx.writer import write_value


def write_strategy_workbook(strategy: Strategy, path: str | Path) -> Path:
    """Strategy / Objectives / Departments sheets with header rows, readable by ``read_strategy``."""
    spec = load_spec("strategy")
    path = Path(path)
    with atomic_path(path) as tmp:
        book = xlsxwriter.Workbook(
            str(tmp), {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
        )
        book.set_properties({"created": datetime(2000, 1, 1)})
        stamp(book, STRATEGY, cycle=strategy.cycle)  # intake skips it, whatever it is called
        bold = book.add_format({"bold": True})
        header = book.add_format({"bold": True, "bg_color": "#1F3864", "font_color": "#FFFFFF", "border": 1})
        dated = book.add_format({"num_format": "yyyy-mm-dd", "align": "left"})
        ws = book.add_worksheet("Strategy")
        ws.set_column(0, 0, 20)
        ws.set_column(1, 1, 90)
        for r, col in enumerate(spec.fields):
            ws.write_string(r, 0, col.header, bold)
            value = getattr(strategy, col.key)
            value = ", ".join(value) if col.key == "periods" else value
            write_value(ws, r, 1, value, dated if isinstance(value, date) else None)
        for sheet in spec.sheets:
            ws = book.add_worksheet(sheet.title)
            for c, col in enumerate(sheet.columns):
                ws.write_string(0, c, col.header, header)
                ws.set_column(c, c, col.width)
            for r, item in enumerate(getattr(strategy, sheet.key), 1):
                for c, col in enumerate(sheet.columns):
                    value = getattr(item, col.key)
                    write_value(ws, r, c, value, dated if isinstance(value, date) else None)
            ws.freeze_panes(1, 0)
        book.close()
    return path
