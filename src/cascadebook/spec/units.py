"""Number formats from units: what a value of "%", "count", "USD" or "days" looks like in a cell.

Every workbook the tool writes shows a number in its unit's format (the master's Goal Hierarchy,
tables, Commitments and Progress, the check-ins, the template's Objectives sheet). The table is the
spec's ``unit_formats:`` (department.yaml) over :data:`DEFAULT_UNIT_FORMATS`, so an organisation
changes a format in YAML; a unit not in it (free text such as "leads" or "NPS points") gets
:data:`PLAIN_FORMAT`, a number with thousands separators. The strategy's optional ``currency`` (an
ISO code) is what the unit "currency" and the money columns (budget, caps) are shown in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

PLAIN_FORMAT = "#,##0.0#"  # free-text units: thousands separators, up to two decimals ...
WHOLE_FORMAT = "#,##0"  # ... or none when the row's values are whole numbers
CURRENCY = "currency"  # the unit (and column type) shown in the strategy's currency
PERCENT_AS_NUMBER = '#,##0.0#"%"'  # a "%" unit typed as 15 (meaning 15%), not 0.15

# The default table; `unit_formats:` in a spec adds to it or overrides it (keys compared case-blind).
DEFAULT_UNIT_FORMATS: dict[str, str] = {
    "%": "0.0%",
    "percent": "0.0%",
    "count": "#,##0",
    "number": "#,##0",
    "people": "#,##0",
    "fte": PLAIN_FORMAT,
    "days": PLAIN_FORMAT,
    "hours": PLAIN_FORMAT,
    "weeks": PLAIN_FORMAT,
    "months": PLAIN_FORMAT,
    "points": PLAIN_FORMAT,
    "score": PLAIN_FORMAT,
    "ratio": "0.00",
    "x": '0.0"x"',
    CURRENCY: "{currency}",  # the strategy's currency (CURRENCY_FORMATS), else #,##0
}

# Currency formats by ISO code: a unit "USD" or the strategy's `currency: EUR` is shown with its sign.
CURRENCY_FORMATS: dict[str, str] = {
    "usd": '"$"#,##0',
    "eur": '"€"#,##0',
    "gbp": '"£"#,##0',
    "jpy": '"¥"#,##0',
    "cny": '"¥"#,##0',
    "inr": '"₹"#,##0',
    "chf": '"CHF "#,##0',
    "cad": '"CA$"#,##0',
    "aud": '"A$"#,##0',
}
MONEY_FORMAT = "#,##0"  # money when the strategy names no currency


def currency_format(code: str | None) -> str:
    """The format of money in ``code`` (an ISO code; a code without a known sign is written after the
    number, "1,200 SEK"); plain #,##0 without one."""
    code = (code or "").strip()
    if not code:
        return MONEY_FORMAT
    known = CURRENCY_FORMATS.get(code.casefold())
    if known:
        return known
    return f'#,##0" {code.upper().replace(chr(34), "")}"'


def is_currency_code(unit: str) -> bool:
    """Whether a unit is an ISO currency code (three letters, e.g. USD): shown as money."""
    text = unit.strip()
    return len(text) == 3 and text.isascii() and text.isalpha() and text.isupper()


def number_format_for(
    unit: Any,
    currency: str | None = "",
    table: Mapping[str, str] | None = None,
    values: Iterable[Any] = (),
) -> str:
    """The Excel number format of a value in ``unit``.

    ``table`` is the spec's ``unit_formats`` (``Spec.unit_formats``), merged over the defaults here;
    ``currency`` is the strategy's. ``values`` are the row's numbers (baseline, target): a percentage
    unit whose values are typed as whole numbers (15 meaning 15%) gets a format that shows them as
    typed, not as 1,500%.
    """
    text = str(unit or "").strip()
    key = text.casefold()
    formats = {**DEFAULT_UNIT_FORMATS, **{str(k).casefold(): str(v) for k, v in (table or {}).items()}}
    found = formats.get(key)
    if found is None:
        if key in CURRENCY_FORMATS or is_currency_code(text):
            return currency_format(text)
        found = PLAIN_FORMAT
    if "{currency}" in found:
        found = found.replace("{currency}", currency_format(currency))
    numbers = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if found == PLAIN_FORMAT and numbers and all(float(v).is_integer() for v in numbers):
        return WHOLE_FORMAT  # 150 leads, not 150.0
    if _is_percent(found) and any(abs(v) > 1.5 for v in numbers):
        return PERCENT_AS_NUMBER
    return found


def _is_percent(num_format: str) -> bool:
    """Whether a format scales by 100 (a % outside quotes)."""
    return "%" in "".join(part for i, part in enumerate(num_format.split('"')) if i % 2 == 0)


def column_format(column_type: str, currency: str | None = "") -> str | None:
    """The number format of a spec column by its type (money in the strategy's currency); None for
    text and the types shown as typed."""
    if column_type == CURRENCY:
        return currency_format(currency)
    return TYPE_FORMATS.get(column_type)


TYPE_FORMATS = {
    "number": PLAIN_FORMAT,
    "integer": "#,##0",
    "percent": "0.0%",
    "date": "yyyy-mm-dd",
}


def parse_unit_formats(raw: Any, where: str) -> dict[str, str]:
    """A spec's ``unit_formats:`` (unit -> Excel number format), checked; a ValueError names what is wrong."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: unit_formats: expected a mapping of unit to number format")
    out: dict[str, str] = {}
    for unit, fmt in raw.items():
        if not isinstance(fmt, str) or not fmt.strip():
            raise ValueError(f"{where}: unit_formats: {unit!r}: expected a number format such as '#,##0'")
        out[str(unit).strip()] = fmt
    return out
