"""A1 references as Excel shows them; everything a user sees is 1-based."""
from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=1024)
def column_letter(col: int) -> str:
    """1 -> A, 27 -> AA."""
    letters = ""
    while col > 0:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def a1(row: int, col: int) -> str:
    """1-based row and column -> 'C5'."""
    return f"{column_letter(col)}{row}"


def parse_a1(ref: str) -> tuple[int, int]:
    """'C5' -> (5, 3), 1-based."""
    letters = "".join(ch for ch in ref if ch.isalpha()).upper()
    digits = "".join(ch for ch in ref if ch.isdigit())
    col = 0
    for ch in letters:
        col = col * 26 + (ord(ch) - 64)
    return int(digits), col


def quote_sheet(name: str) -> str:
    """Sheet name as it must appear in a formula or hyperlink target."""
    return "'" + name.replace("'", "''") + "'"


def row_ranges(numbers: tuple[int, ...]) -> str:
    """(5, 6, 7, 9) -> '5-7, 9': row numbers as a person reads them in a message."""
    if not numbers:
        return ""
    parts, start, prev = [], numbers[0], numbers[0]
    for n in numbers[1:] + (None,):
        if n is not None and n == prev + 1:
            prev = n
            continue
        parts.append(f"{start}" if start == prev else f"{start}-{prev}")
        if n is not None:
            start = prev = n
    return ", ".join(parts)
