"""Finance's decision columns in a returned template: typed into, and told so (``decision-column-edited``).

``generate --from MASTER`` shows finance's decisions in read-only columns beside a department's
Initiatives inputs (template/decisions.py). They are display only: intake does not read them. A
department head who unprotects the sheet and types there (changes "Rejected" to "Approved", replies in
the Comment column) would otherwise be told nothing, so the template signs what it showed
(``Metadata.decision_values``) and the reader compares each non-empty cell of those columns with it.

What is signed is compact, not the values: per decided row, a short hash of its initiative id and a short
hash of each shown value (blank for a blank cell), in the order of ``Metadata.decision_columns``:
``<id hash>=<hash>.<hash>.<hash>;...``. Rows are matched by id, not position, so sorting the rows (the
autofilter carries the decisions with them) is no edit. Values are normalised first, so a re-save by
LibreOffice or Excel (numbers come back as floats, text unchanged) reads as untouched.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from cascadebook.findings import Finding
from cascadebook.spec.schema import normalise_header
from cascadebook.spec.values import is_blank
from cascadebook.xlsx.addresses import a1
from cascadebook.xlsx.writer import cut

VALUE_CHARS, ID_CHARS = 4, 8  # hex digits: compact enough for hundreds of rows in one metadata cell
ROW_SEP, ID_SEP, VALUE_SEP = ";", "=", "."


def shown_text(value: Any) -> str:
    """A cell's value as compared: blank "", a number as a float (an int written comes back a float after a
    re-save), a date by its ISO day, text as written (line endings aside)."""
    if value is None or value == "" or is_blank(value):
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, float)):
        return repr(float(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return cut(str(value)).replace("\r\n", "\n")


def _hash(text: str, chars: int) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:chars]


def _id_hash(value: Any) -> str:
    return _hash(shown_text(value).strip().casefold(), ID_CHARS)


def _value_hash(text: str) -> str:
    return _hash(text, VALUE_CHARS) if text else ""


def encode(rows: Iterable[tuple[Any, Sequence[Any]]]) -> str:
    """``Metadata.decision_values`` for the decided rows shown: (initiative id, the values shown in column order)."""
    return ROW_SEP.join(
        f"{_id_hash(ident)}{ID_SEP}{VALUE_SEP.join(_value_hash(shown_text(v)) for v in values)}"
        for ident, values in rows
    )


def decode(text: str) -> dict[str, tuple[str, ...]]:
    """Id hash -> the value hashes shown, from ``Metadata.decision_values`` (malformed parts left out)."""
    rows: dict[str, tuple[str, ...]] = {}
    for part in text.split(ROW_SEP):
        ident, sep, values = part.partition(ID_SEP)
        if sep:
            rows[ident] = tuple(values.split(VALUE_SEP))
    return rows


def edited_cells(
    rows: Sequence[Sequence[Any]],
    header: int,
    id_column: int | None,
    headers: Sequence[str],
    signed: str,
    where: Mapping[str, Any],
) -> list[Finding]:
    """A ``decision-column-edited`` warning per non-empty cell of the decision columns (found by their
    ``headers`` on row ``header``, 0-based) that the template did not show: changed on a decided row, or
    typed on a row that had no decision."""
    shown = decode(signed)
    wanted = {normalise_header(h): i for i, h in enumerate(headers)}
    columns: dict[int, int] = {}  # decision column index -> 0-based sheet column
    for c, value in enumerate(rows[header]):
        i = wanted.get(normalise_header(value)) if isinstance(value, str) else None
        if i is not None and i not in columns:
            columns[i] = c
    findings = []
    for r in range(header + 1, len(rows)):
        row = rows[r]
        expected: tuple[str, ...] = ()
        if id_column is not None and id_column < len(row) and not is_blank(row[id_column]):
            expected = shown.get(_id_hash(row[id_column]), ())
        for i, c in sorted(columns.items()):
            text = shown_text(row[c]) if c < len(row) else ""
            if not text or _value_hash(text) == (expected[i] if i < len(expected) else ""):
                continue
            cell = a1(r + 1, c + 1)
            typed = text if len(text) <= 60 else text[:57] + "..."
            findings.append(
                Finding(
                    "decision-column-edited",
                    f"{cell} in the {headers[i]!r} column holds {typed!r}, which the template did not show there: "
                    "finance's decision columns are read-only and are not read, so this was not taken",
                    cell=cell,
                    **where,
                )
            )
    return findings
