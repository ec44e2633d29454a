"""Room for text: row heights for wrapped text and column widths that fit their values.

Neither Excel nor LibreOffice grows a row whose wrapped text sits in merged cells, and a row written
by the tool has no height until one is set: the text's lines then print over each other. These are
estimates from the text's length and the width in characters (Excel's column width unit, about one
digit of the default font), good enough for the metric-compatible fonts (Carlito, Liberation) that
LibreOffice uses in place of Calibri and Arial.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

LINE_HEIGHT = 15.0  # points per line of 11 pt text (Excel's default row is 15)
WIDE_FACTOR = 0.9  # a width unit is one digit; running text averages a little narrower (Carlito, Calibri)
BOLD_FACTOR = 0.85  # bold text takes this much more room per character than plain
MAX_HEIGHT = 409.0  # Excel's largest row height


def text_lines(text: Any, width: float) -> int:
    """How many lines ``text`` takes wrapped in ``width`` characters (each of its own lines wrapped
    at word boundaries; at least one)."""
    room = max(int(width / WIDE_FACTOR), 1)
    lines = 0
    for paragraph in str(text or "").split("\n"):
        words = paragraph.split()
        if not words:
            lines += 1
            continue
        used = 0
        count = 1
        for word in words:
            size = len(word)
            if used and used + 1 + size > room:
                count += 1
                used = 0
            if size > room:  # a word longer than the line breaks anywhere
                extra = math.ceil(size / room) - 1
                count += extra
                size -= extra * room
            used += size + (1 if used else 0)
        lines += count
    return max(lines, 1)


def row_height(texts: Iterable[tuple[Any, float]], font_size: float = 11, minimum: float = LINE_HEIGHT) -> float:
    """The height (points) a row needs for its wrapped texts: the tallest of (text, width) pairs,
    ``width`` being the cell's (or the merged cells') width in characters."""
    line = LINE_HEIGHT * font_size / 11
    needed = max((text_lines(text, width) * line for text, width in texts), default=minimum)
    return min(max(needed + 2 if needed > line else needed, minimum), MAX_HEIGHT)


def header_height(texts: Iterable[tuple[Any, float]], minimum: float = 30) -> float:
    """A header row's height: its bold wrapped headers ((text, width) pairs) are wider than plain text."""
    return row_height(((text, width * BOLD_FACTOR) for text, width in texts), minimum=minimum)


def merged_width(widths: Iterable[float]) -> float:
    """The width in characters of cells merged across columns of ``widths`` (the gaps between them count)."""
    widths = list(widths)
    return sum(widths) + 0.7 * max(len(widths) - 1, 0)


def fit_width(values: Iterable[Any], minimum: float = 8, maximum: float = 40, padding: float = 2) -> float:
    """A column width that fits the longest of ``values`` (their text), within [minimum, maximum]:
    ids, codes and file names are shown whole up to the maximum and wrap beyond it."""
    longest = max((len(str(v)) for v in values if v is not None and v != ""), default=0)
    return float(min(max(longest * WIDE_FACTOR + padding, minimum), maximum))
