"""Parse what people type into spreadsheet cells (as read by python-calamine or openpyxl).

``parse_value(raw, kind)`` never raises on user input; it returns a :class:`Parsed`.
Only an unknown ``kind`` raises ``ValueError`` (a programming error).

Blank: ``None``, ``""``, whitespace (incl. non-breaking / zero-width spaces) are blank for
every kind.  The "not applicable" markers in ``BLANK_MARKERS`` (compared casefolded after
strip) are blank for every kind except ``text`` (where "-" may be meaningful); in ``choice``
a marker that is itself one of the choices (e.g. "None") is matched as the choice.
"TBD", "?" and "unknown" are *not* blank markers: they are reported as invalid so they get chased.

Numbers (``number``/``currency``/``integer``/``percent``): strings may carry a sign ("+5",
"-5", unicode minus "−5"), accounting parentheses "(1,200)", a currency symbol or code
($ € £ ¥ ₹ USD EUR GBP ...), a multiplier suffix k (1e3), m/mn/mio (1e6), b/bn (1e9), and "%".
Separators: "1,200" / "1,200,000.5" (comma thousands); "1.200.000" / "1.200,50" (dot
thousands, comma decimal); "1 200" with normal, non-breaking, narrow or thin spaces or an
apostrophe as thousands separator.  A single comma followed by exactly 3 digits (and a
non-zero leading group) is a thousands separator ("1,200" -> 1200); otherwise it is a decimal
comma ("12,5" -> 12.5, "0,500" -> 0.5, "1,2345" -> 1.2345).  A single dot is always a decimal
point ("1.200" -> 1.2, with a note because it may have meant 1200).  bool is not a number.
A value with "%" is a number ("15%" -> 0.15) but not a ``currency`` amount (an error there).

Percent: returns a fraction.  A value with a % sign is divided by 100 ("15%" -> 0.15,
"1.5%" -> 0.015).  A number without % whose absolute value is greater than 1 is read as
percentage points (15 -> 0.15, note "read 15 as 15%"); a number with absolute value <= 1 is a
fraction as typed (0.15 -> 0.15, 1 -> 1.0 i.e. 100%).  Strings without % follow the same rule.
Note: a percent-formatted cell showing 150% holds 1.5 and is therefore read as 1.5% (with a note).

Dates: datetime/date values -> date; Excel serial numbers 20000..80000 -> date (1899-12-30
epoch, with a note).  Strings: year first "2027-06-30", "2027/06/30", "2027.06.30" (optionally
with a time); "a/b/yyyy" (also "." or "-", 2-digit years = 20yy): if a > 12 it is day/month, if
b > 12 it is month/day ("06/30/2027"), if both <= 12 it is read day first with a note
("03/04/2027" -> 2027-04-03); "30 Jun 2027", "30-Jun-27", "June 30, 2027"; month only
("Jun 2027", "2027-06") -> the first day of the month, with a note.

Periods: a label in ``periods`` matches directly (case/whitespace-insensitive).  Otherwise
quarters/halves with an optional year before or after: "q3", "2027-Q3", "Q3 2027", "FY2027 Q3",
"Q3 FY27", "Q3'27", "Quarter 3", "3Q"; a bare "3" is rejected.  A year other than
``cycle_year`` is an error; a date value gives its quarter (or half), with a note.
Choices: case- and whitespace-insensitive, returns the canonical spelling; if the choices
contain both a yes-like and a no-like option, y/n/true/false/1/0/x and bools map onto them.
Boolean: yes/no, y/n, true/false, 1/0, x or a tick (= yes), and real bools.
Text and reference: stripped string; numbers without a trailing ".0"; dates ISO; bools TRUE/FALSE.
"""

from __future__ import annotations

import datetime as _dt
import math
import numbers
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

__all__ = ["BLANK_MARKERS", "KINDS", "Parsed", "display", "note_reason", "parse_value", "value_parser"]

BLANK_MARKERS: frozenset[str] = frozenset(
    {"n/a", "n.a.", "n.a", "na", "-", "--", "---", "—", "–", "none", "null", "not applicable"}
)


@dataclass(frozen=True, slots=True)
class Parsed:
    value: object | None
    blank: bool = False
    error: str | None = None
    note: str | None = None

    @property
    def ok(self) -> bool:
        return not self.blank and self.error is None


_BLANK = BLANK = Parsed(None, blank=True)
_ZW = "\u200b\u200c\u200d\u2060\ufeff"
_ZW_STRIP = re.compile(rf"^[\s{_ZW}]+|[\s{_ZW}]+$")
_MINUS = str.maketrans({"\u2212": "-", "\u2013": "-", "\u2010": "-", "\u2011": "-"})
_CUR = r"[$€£¥₹]|us\$|usd|eur|gbp|jpy|chf|cad|aud|cny|inr"
_NUM_RE = re.compile(  # [sign] [currency] [sign] core [exponent] [k/m/bn] [currency] [%]
    rf"(?P<s1>[-+])?\s*(?:(?:{_CUR})\s*)?(?P<s2>[-+])?\s*(?P<core>[0-9.,](?:[0-9.,' ’]*[0-9])?)"
    rf"(?P<exp>e[-+]?[0-9]+)?\s*(?P<suf>mio|mn|bn|k|m|b)?\s*(?:{_CUR})?\s*(?P<pct>%)?",
    re.I,
)
_PLAIN = re.compile(r"[0-9]+(?:\.[0-9]*)?|\.[0-9]+")
_AMBIG_DOT = re.compile(r"[1-9][0-9]{0,2}\.[0-9]{3}")  # "1.200": 1.2 or (European) 1200?
_COMMA_THOUS = re.compile(r"[1-9][0-9]{0,2}(?:,[0-9]{3})+(?:\.[0-9]+)?")
_DOT_THOUS = re.compile(r"[1-9][0-9]{0,2}(?:\.[0-9]{3})+(?:,[0-9]+)?")
_SPACE_THOUS = re.compile(r"[1-9][0-9]{0,2}(?:[ '’][0-9]{3})+(?:[.,][0-9]+)?")
_DEC_COMMA = re.compile(r"[0-9]*,[0-9]+")
_MULT = {"k": 1000, "m": 10**6, "mn": 10**6, "mio": 10**6, "b": 10**9, "bn": 10**9}

_TIME = r"(?:[ t]+[0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?\s*(?:am|pm)?)?"
_YMD = re.compile(rf"([0-9]{{4}})([-/.])([0-9]{{1,2}})\2([0-9]{{1,2}}){_TIME}")
_DMY = re.compile(rf"([0-9]{{1,2}})([-/.])([0-9]{{1,2}})\2([0-9]{{4}}|[0-9]{{2}}){_TIME}")
_D_MON_Y = re.compile(r"([0-9]{1,2})(?:st|nd|rd|th)?[\s\-/.]*([a-z]+)\.?,?[\s\-/.]*([0-9]{4}|[0-9]{2})")
_MON_D_Y = re.compile(r"([a-z]+)\.?\s*([0-9]{1,2})(?:st|nd|rd|th)?,?\s+([0-9]{4})")
_MON_Y = re.compile(r"([a-z]+)\.?[\s\-/.,]*([0-9]{4})|([0-9]{4})-([0-9]{1,2})")
_MONTH_NAMES = "january february march april may june july august september october november december"
_MONTHS = {n: i for i, f in enumerate(_MONTH_NAMES.split(), 1) for n in (f, f[:3])} | {"sept": 9}
_EPOCH = _dt.date(1899, 12, 30)

_YEAR1 = r"(?:(?:FY|CY)?\s*(?P<y1>[0-9]{4})|(?:FY|CY)\s*(?P<z1>[0-9]{2}))"
_YEAR2 = r"(?:(?:FY|CY)?\s*'?(?P<y2>[0-9]{4})|(?:FY|CY|')\s*(?P<z2>[0-9]{2}))"
_PERIOD_RE = re.compile(
    rf"{_YEAR1}?[\s\-/_.,]*(?:(?:QUARTER|QTR|Q)\s*(?P<q>[1-4])|(?P<q2>[1-4])Q"
    rf"|(?:HALF|H)\s*(?P<h>[12]))[\s\-/_.,]*{_YEAR2}?"
)
_BOOL = dict.fromkeys(("yes", "y", "true", "1", "x", "✓", "✔"), True) | dict.fromkeys(("no", "n", "false", "0"), False)
_YES_NO_OPTIONS = frozenset({"yes", "y", "true", "no", "n", "false"})


def _plain(raw: object) -> str:
    """Unquoted text form: 12.0 -> '12', dates ISO, bool TRUE/FALSE."""
    if isinstance(raw, str):
        return raw
    if isinstance(raw, bool):
        return "TRUE" if raw else "FALSE"
    if isinstance(raw, float):
        return str(int(raw)) if raw.is_integer() and abs(raw) < 1e16 else repr(raw)
    if isinstance(raw, _dt.datetime):
        return raw.date().isoformat() if raw.time() == _dt.time() else raw.isoformat(" ")
    if isinstance(raw, (_dt.date, _dt.time)):
        return raw.isoformat()
    try:
        return str(raw)
    except Exception:  # noqa: BLE001 - e.g. int too large to convert, broken __str__
        return f"<{type(raw).__name__}>"


_READ_AS = re.compile(r"read .+? as .+?(?: \((?P<why>[^()]*)\))?", re.S)


def note_reason(note: str | None) -> str | None:
    """The part of a note that a message already saying "X was read as Y" does not: its reason.

    Notes say how a value was read, "read X as Y", sometimes with why: "read '1.200' as 1.2 (a dot
    is a decimal point)". Next to "'25%' was read as 0.25", "read 25% as 0.25" would say it twice,
    so only the reason ("a dot is a decimal point") is left; a note of another form is kept whole.
    """
    if not note:
        return None
    match = _READ_AS.fullmatch(note)
    return note if match is None else match["why"]


def display(raw: object) -> str:
    """How to show a raw cell value in a message: strings quoted (cut at 60 chars), numbers
    without trailing .0, dates ISO, bools TRUE/FALSE, None as 'blank'."""
    if raw is None:
        return "blank"
    if isinstance(raw, str):
        return repr(raw if len(raw) <= 60 else raw[:57] + "...")
    return _plain(raw)


def _parse_num_str(s: str) -> tuple[float, bool, str | None] | None:
    """-> (value before % scaling, had %, note) or None."""
    if not s.isascii():
        s = unicodedata.normalize("NFKC", s.translate(_MINUS))
    neg = False
    if len(s) > 2 and s[0] == "(" and s[-1] == ")":
        neg, s = True, s[1:-1].strip()
    m = _NUM_RE.fullmatch(s)
    if m is None:
        return None
    s1, s2, core, exp, suf = m["s1"], m["s2"], m["core"], m["exp"], m["suf"]
    if (s1 and s2) or (neg and (s1 or s2)) or (suf and m["pct"]):
        return None
    note = None
    if _PLAIN.fullmatch(core):
        if _AMBIG_DOT.fullmatch(core) and not (exp or suf):
            note = f"read {s!r} as {_plain(float(core))} (a dot is a decimal point)"
    elif exp:
        return None
    elif _COMMA_THOUS.fullmatch(core):
        core = core.replace(",", "")
    elif _DOT_THOUS.fullmatch(core):
        core = core.replace(".", "").replace(",", ".")
    elif _SPACE_THOUS.fullmatch(core):
        core = re.sub(r"[ '’]", "", core).replace(",", ".")
    elif _DEC_COMMA.fullmatch(core):
        core = core.replace(",", ".")
    else:
        return None
    text = core + (exp or "")
    value = float(Decimal(text) * _MULT[suf.lower()]) if suf else float(text)
    if not math.isfinite(value):
        return None
    if neg or "-" in (s1, s2):
        value = -value
    return value, bool(m["pct"]), note


def _to_float(raw: object) -> tuple[float, bool, str | None] | None:
    t = type(raw)
    if t is not float and t is not int:  # fast path first: most cells are plain numbers
        if isinstance(raw, str):
            return _parse_num_str(raw)
        if isinstance(raw, bool) or not isinstance(raw, numbers.Real):
            return None
    try:
        v = float(raw)  # type: ignore[arg-type]
    except (OverflowError, ValueError, TypeError):
        return None
    return (v, False, None) if math.isfinite(v) else None


def _number(raw: object, **_: object) -> Parsed:
    r = _to_float(raw)
    if r is None:
        return Parsed(None, error="a number")
    v, pct, note = r
    if pct:
        v = v / 100
        note = f"read {_plain(raw)} as {_plain(v)}"
    return Parsed(v, note=note)


def _currency(raw: object, **_: object) -> Parsed:
    """A number, but never a percentage: "15%" in a money column is a share typed where an amount goes."""
    r = _to_float(raw)
    if r is not None and r[1]:
        return Parsed(None, error="an amount, not a percentage")
    return _number(raw)


def _integer(raw: object, **_: object) -> Parsed:
    p = _number(raw)
    if p.error or not p.value.is_integer():  # type: ignore[union-attr]
        return Parsed(None, error="a whole number")
    return Parsed(int(p.value), note=p.note)  # type: ignore[arg-type]


def _percent(raw: object, **_: object) -> Parsed:
    r = _to_float(raw)
    if r is None:
        return Parsed(None, error="a percentage")
    v, pct, note = r
    if pct:
        return Parsed(v / 100, note=note)
    if abs(v) > 1:
        return Parsed(v / 100, note=f"read {_plain(v)} as {_plain(v)}%")
    return Parsed(v, note=note)


def _ymd(y: int, m: int, d: int) -> _dt.date | None:
    try:
        return _dt.date(y, m, d)
    except ValueError:
        return None


def _parse_date_str(text: str) -> tuple[_dt.date | None, str | None]:
    s = text.lower()
    if m := _YMD.fullmatch(s):
        return _ymd(int(m[1]), int(m[3]), int(m[4])), None
    if m := _DMY.fullmatch(s):
        a, b, y = int(m[1]), int(m[3]), int(m[4])
        y += 2000 if len(m[4]) == 2 else 0
        if b > 12 and a <= 12:
            return _ymd(y, a, b), None
        d = _ymd(y, b, a)
        if d and a != b and a <= 12:
            return d, f"read {text!r} as {d.isoformat()} (day first)"
        return d, None
    if m := _D_MON_Y.fullmatch(s):
        y = int(m[3]) + (2000 if len(m[3]) == 2 else 0)
        return (_ymd(y, _MONTHS[m[2]], int(m[1])) if m[2] in _MONTHS else None), None
    if (m := _MON_D_Y.fullmatch(s)) and m[1] in _MONTHS:
        return _ymd(int(m[3]), _MONTHS[m[1]], int(m[2])), None
    if m := _MON_Y.fullmatch(s):
        mon = _MONTHS.get(m[1]) if m[1] else int(m[4])
        d = _ymd(int(m[2] or m[3]), mon, 1) if mon else None
        return d, (f"read {text!r} as {d.isoformat()} (first day of the month)" if d else None)
    return None, None


def _date(raw: object, **_: object) -> Parsed:
    if isinstance(raw, _dt.datetime):
        return Parsed(raw.date())
    if isinstance(raw, _dt.date):
        return Parsed(raw)
    if isinstance(raw, str):
        d, note = _parse_date_str(raw)
        return Parsed(d, note=note) if d else Parsed(None, error="a date")
    r = _to_float(raw)
    if r and 20000 <= r[0] <= 80000:
        d = _EPOCH + _dt.timedelta(days=int(r[0]))
        return Parsed(d, note=f"read serial {_plain(raw)} as {d.isoformat()}")
    return Parsed(None, error="a date")


@lru_cache(maxsize=256)
def _lookup(options: tuple[str, ...]) -> dict[str, str]:
    table: dict[str, str] = {}
    for opt in options:
        table.setdefault("".join(str(opt).split()).casefold(), opt)
    return table


def _one_of(options: Sequence[str]) -> str:
    shown = ", ".join(str(o) for o in options[:10])
    return f"one of {shown}" + (f", ... ({len(options)} options)" if len(options) > 10 else "")


def _period(raw: object, *, periods: Sequence[str] | None = None, cycle_year: int | None = None, **_: object) -> Parsed:
    table = _lookup(tuple(periods)) if periods else {}
    example = str(periods[0]) if periods else "Q3"
    note = None
    if isinstance(raw, _dt.date):
        year, q = raw.year, (raw.month - 1) // 3 + 1
        labels = [f"Q{q}", f"H{(q + 1) // 2}"]
        label = next((x for x in labels if not table or x.casefold() in table), labels[0])
        note = f"read {_plain(raw)} as {label}"
    else:
        text = _plain(raw)
        key = "".join(text.split()).casefold()
        if key in table:
            return Parsed(table[key])
        m = _PERIOD_RE.fullmatch(text.strip().upper()) if isinstance(raw, str) else None
        if m is None or ((m["y1"] or m["z1"]) and (m["y2"] or m["z2"])):
            return Parsed(None, error=f"a period such as {example}")
        label = f"H{m['h']}" if m["h"] else f"Q{m['q'] or m['q2']}"
        y, z = m["y1"] or m["y2"], m["z1"] or m["z2"]
        year = int(y) if y else 2000 + int(z) if z else None
    if cycle_year is not None and year is not None and year != cycle_year:
        return Parsed(None, error=f"a period of {cycle_year} such as {example}")
    if table:
        if label.casefold() not in table:
            return Parsed(None, error=_one_of(periods))  # type: ignore[arg-type]
        label = table[label.casefold()]
    return Parsed(label, note=note)


def _choice(raw: object, *, choices: Sequence[str] | None = None, **_: object) -> Parsed:
    options = tuple(choices or ())
    table = _lookup(options)
    key = "yes" if raw is True else "no" if raw is False else "".join(_plain(raw).split()).casefold()
    if key in table:
        return Parsed(table[key])
    if isinstance(raw, str) and len(raw) <= 16 and raw.casefold() in BLANK_MARKERS:
        return _BLANK
    wanted = _BOOL.get(key)  # yes/no words, if the choices have both a yes-like and a no-like option
    if wanted is not None:
        yes_no = {_BOOL[k]: opt for k, opt in reversed(table.items()) if k in _YES_NO_OPTIONS}
        if len(yes_no) == 2:
            return Parsed(yes_no[wanted])
    return Parsed(None, error=_one_of(options) if options else "a value from the list")


def _boolean(raw: object, **_: object) -> Parsed:
    if isinstance(raw, bool):
        return Parsed(raw)
    if isinstance(raw, (int, float)) and raw in (0, 1):
        return Parsed(bool(raw))
    b = _BOOL.get(raw.casefold()) if isinstance(raw, str) else None
    return Parsed(None, error="yes or no") if b is None else Parsed(b)


def _text(raw: object, **_: object) -> Parsed:
    return Parsed(_plain(raw).strip())


# An id, then its weight after a space, ":" or "=" (without one, "CO3" would be objective "CO" at 3%).
_ALLOCATION_PART = re.compile(r"^\s*([A-Za-z][\w.-]*?)(?:\s*[:=]\s*|\s+)([-+]?[\d.,]+\s*%?)\s*$")


def _allocation(raw: object, **_: object) -> Parsed:
    """'CO1 60% / CO3 40%' -> (('CO1', 0.6), ('CO3', 0.4)); weights follow the percent rule."""
    expected = "objective ids with weights, such as CO1 60% / CO3 40%"
    if not isinstance(raw, str):
        return Parsed(None, error=expected)
    parts = []
    for chunk in re.split(r"[/;|]|,(?=\s*[A-Za-z])|\band\b", raw):
        if not chunk.strip():
            continue
        match = _ALLOCATION_PART.match(chunk)
        weight = _percent(match.group(2).replace(" ", "")) if match else None
        if weight is None or not weight.ok:
            return Parsed(None, error=expected)
        parts.append((match.group(1), weight.value))
    return Parsed(tuple(parts)) if parts else Parsed(None, error=expected)


_PARSERS: dict[str, Callable[..., Parsed]] = {
    "text": _text,
    "reference": _text,
    "number": _number,
    "currency": _currency,
    "integer": _integer,
    "percent": _percent,
    "date": _date,
    "period": _period,
    "choice": _choice,
    "boolean": _boolean,
    "allocation": _allocation,
}
KINDS: frozenset[str] = frozenset(_PARSERS)


def parse_value(
    raw: object,
    kind: str,
    *,
    choices: Sequence[str] | None = None,
    periods: Sequence[str] | None = None,
    cycle_year: int | None = None,
) -> Parsed:
    """Parse one cell value ``raw`` as ``kind`` (see module docstring for the rules)."""
    parser = _PARSERS.get(kind)
    if parser is None:
        raise ValueError(f"unknown value kind {kind!r}; expected one of {sorted(_PARSERS)}")
    if raw is None:
        return _BLANK
    if isinstance(raw, str):
        raw = raw.strip()
        if raw and (raw[0] in _ZW or raw[-1] in _ZW):
            raw = _ZW_STRIP.sub("", raw)
        if not raw:
            return _BLANK
        if kind != "text" and kind != "choice" and len(raw) <= 16 and raw.casefold() in BLANK_MARKERS:
            return _BLANK
    return parser(raw, choices=choices, periods=periods, cycle_year=cycle_year)


def value_parser(
    kind: str,
    *,
    choices: Sequence[str] | None = None,
    periods: Sequence[str] | None = None,
    cycle_year: int | None = None,
) -> Callable[[object], Parsed]:
    """``parse_value`` with its kind and options bound, for the cells of one column (reconcile).

    A column's texts repeat (units, periods, choices, objective ids), and a text's reading depends on
    nothing else, so the readings of texts are kept (``Parsed`` is immutable), up to ``_MEMO`` of
    them; free text (``text`` columns) is only stripped, so it is not kept.
    """
    parser = _PARSERS.get(kind)
    if parser is None:
        raise ValueError(f"unknown value kind {kind!r}; expected one of {sorted(_PARSERS)}")
    markers_blank = kind != "text" and kind != "choice"
    options = dict(choices=choices, periods=periods, cycle_year=cycle_year)

    def parse_text(raw: str) -> Parsed:
        raw = raw.strip()
        if not raw:
            return _BLANK
        if raw[0] in _ZW or raw[-1] in _ZW:
            raw = _ZW_STRIP.sub("", raw)
            if not raw:
                return _BLANK
        if markers_blank and len(raw) <= 16 and raw.casefold() in BLANK_MARKERS:
            return _BLANK
        return parser(raw, **options)

    if kind == "text":

        def parse(raw: object) -> Parsed:
            if type(raw) is str:
                text = raw.strip()
                if text and text[0] not in _ZW and text[-1] not in _ZW:
                    return Parsed(text)  # what _text gives a stripped string
                return parse_text(raw)
            if raw is None:
                return _BLANK
            return parse_text(raw) if isinstance(raw, str) else parser(raw, **options)

        return parse

    memo: dict[str, Parsed] = {}
    fast_float = kind in ("number", "currency")

    def parse(raw: object) -> Parsed:
        t = type(raw)
        if t is str:
            hit = memo.get(raw)  # type: ignore[arg-type]
            if hit is None:
                hit = parse_text(raw)  # type: ignore[arg-type]
                if len(memo) < _MEMO:
                    memo[raw] = hit  # type: ignore[index]
            return hit
        if t is float and fast_float and math.isfinite(raw):  # type: ignore[arg-type]
            return Parsed(raw)  # what _number gives a finite float
        if raw is None:
            return _BLANK
        if isinstance(raw, str):
            return parse_text(raw)
        return parser(raw, **options)

    parse.memo = memo  # type: ignore[attr-defined]  # for callers that look a text up themselves first
    return parse


_MEMO = 4096  # readings of texts kept per bound parser


def is_blank(value: Any) -> bool:
    """Nothing typed: None, or text of only spaces."""
    return value is None or (isinstance(value, str) and not value.strip())
