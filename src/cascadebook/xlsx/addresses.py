"""A1 references as Excel shows them; everything a user sees is 1-based."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
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


class CellRefs(Mapping):
    """Column key -> A1 of one row, worked out when asked: ``{"title": "C5", ...}`` without the dict.

    A returned sheet has tens of thousands of rows and each row's cells are rarely asked for (only
    for a finding), so a row keeps its number and the sheet's one ``columns`` map (key -> 1-based
    column), shared by all its rows. It reads, compares, iterates and pickles like the dict it stands for.
    """

    __slots__ = ("columns", "row")

    def __init__(self, row: int, columns: Mapping[str, int]):
        self.row = row
        self.columns = columns

    def __getitem__(self, key: str) -> str:
        return f"{column_letter(self.columns[key])}{self.row}"

    def get(self, key: str, default=None):
        col = self.columns.get(key)
        return default if col is None else f"{column_letter(col)}{self.row}"

    def __contains__(self, key: object) -> bool:
        return key in self.columns

    def __iter__(self) -> Iterator[str]:
        return iter(self.columns)

    def __len__(self) -> int:
        return len(self.columns)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, CellRefs) and other.columns is self.columns:
            return other.row == self.row
        return Mapping.__eq__(self, other)

    __hash__ = None  # type: ignore[assignment]  # a mapping, like dict

    def __repr__(self) -> str:
        return repr(dict(self))

    # No __getstate__/__setstate__: pickle then restores the two slots itself, in C. Packed rows
    # (consolidate/packed.py) are unpickled a few times each while the master is written, one CellRefs per row,
    # and a Python __setstate__ made that a fifth slower.


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
