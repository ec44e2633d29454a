"""Print setup a person would have chosen, the same for every sheet the tool writes.

A4, landscape where the sheet is wide, fit to one page wide (as many pages tall as it takes), the
header rows repeated on every page, a print area that stops a few rows after the filled ones (a blank
template prints its prefilled rows, not its two hundred empty input rows), and a page header and
footer naming the company, the cycle, the department or sheet, "Page N of M" and when it was made.
"""

from __future__ import annotations

from dataclasses import dataclass

A4 = 9  # xlsxwriter's paper code
SPARE_ROWS = 3  # blank rows printed after the filled ones, to write on
LANDSCAPE_FROM = 110  # sheets wider than this (characters of column width) print landscape


@dataclass(frozen=True)
class PageText:
    """What a page's header and footer say: left the company, centre the sheet (or what is given),
    right the cycle and department; the footer when the workbook was made and the page number."""

    company: str = ""
    cycle: str = ""
    department: str = ""
    made: str = ""

    def header(self, title: str = "&A") -> str:
        right = " · ".join(_escape(p) for p in (self.cycle, self.department) if p)
        return _limit(f"&L{_escape(self.company)}&C&B{title}&R{right}")

    def footer(self) -> str:
        made = f"Made {_escape(self.made)}" if self.made else ""
        return _limit(f"&L{made}&RPage &P of &N")


def _escape(text: str) -> str:
    """Header text as typed: a literal & is doubled (else it starts a code such as &P)."""
    return str(text).replace("&", "&&")


def _limit(text: str) -> str:
    """Excel refuses a header or footer over 255 characters: long names are cut."""
    return text if len(text) <= 255 else text[:255].rstrip("&")


def print_setup(
    ws,
    page: PageText | None = None,
    *,
    width: float | None = None,
    landscape: bool | None = None,
    repeat: int | tuple[int, int] | None = None,
    area: tuple[int, int] | None = None,
    one_page: bool = False,
    title: str = "&A",
) -> None:
    """Set up ``ws`` for print.

    ``width`` (the columns' widths in characters) decides landscape unless ``landscape`` is given;
    ``repeat`` is the 0-based header row (or first and last) printed on every page; ``area`` the last
    0-based row and column to print (from A1); ``one_page`` fits the sheet on one page (Instructions).
    """
    ws.set_paper(A4)
    if landscape is None:
        landscape = width is not None and width > LANDSCAPE_FROM
    if landscape:
        ws.set_landscape()
    else:
        ws.set_portrait()
    ws.fit_to_pages(1, 1 if one_page else 0)
    side = 0.3 if landscape else 0.5  # a landscape sheet is wide: every bit of the page's width counts
    ws.set_margins(left=side, right=side, top=0.75, bottom=0.7)
    if repeat is not None:
        first, last = (repeat, repeat) if isinstance(repeat, int) else repeat
        ws.repeat_rows(first, last)
    if area is not None:
        ws.print_area(0, 0, area[0], area[1])
    if page is not None:
        ws.set_header(page.header(title), {"margin": 0.3})
        ws.set_footer(page.footer(), {"margin": 0.3})


def print_rows(filled: int, first: int, spare: int = SPARE_ROWS) -> int:
    """The last 0-based row to print of a table whose data starts at ``first`` and has ``filled`` rows."""
    return first + max(filled, 0) + spare - 1
