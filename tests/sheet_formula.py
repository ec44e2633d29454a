"""A small evaluator of the template's live-check formulas, to test them fast without LibreOffice.

It knows only what intake/rules.py and intake/formulas.py write (IF, AND, LEN, TRIM, LOWER, MID,
FIND, ISNUMBER, INT, SIGN, INDEX, MATCH, SUMPRODUCT; & + - * comparisons; cells, ranges, names) and
evaluates them as Excel does: text compared case-insensitively with "=", an empty cell is "" to text
and 0 to arithmetic, FIND and MATCH give an error when nothing is found, ISNUMBER of an error is FALSE.
tests/test_livecheck.py checks the real thing in LibreOffice; this is for the fast behaviour tables.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any

from cascadebook.intake.formulas import ROW, sheet_number, sheet_text, sheet_trim


class Error:
    """An Excel error value (#VALUE!, #N/A): it travels through everything but ISNUMBER and IF's branches."""

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return self.name


_TOKEN = re.compile(
    r"\s*(?:(?P<str>\"(?:[^\"]|\"\")*\")|(?P<num>\d+(?:\.\d+)?)"
    r"|(?P<ref>(?:'(?:[^']|'')+'!|[A-Za-z_]\w*!)?\$?[A-Z]{1,3}\$?\d+(?::\$?[A-Z]{1,3}\$?\d+)?(?![\w(]))"
    r"|(?P<name>[A-Za-z_][\w.]*)|(?P<op><>|<=|>=|[-+*/&=<>(),]))"
)
_CELL = re.compile(r"\$?([A-Z]{1,3})\$?(\d+)")


def _col_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def _letters(n: int) -> str:
    out = ""
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out


class Sheet:
    """Cells of one evaluation: ``cells[sheet title][A1] = value`` and the defined names."""

    def __init__(self, cells: Mapping[str, Mapping[str, Any]], names: Mapping[str, Any], here: str):
        self.cells, self.names, self.here = cells, names, here

    def evaluate(self, formula: str, row: int) -> Any:
        text = formula.removeprefix("=").replace(ROW, str(row))
        tokens = []
        pos = 0
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if m is None or m.end() == pos:
                if text[pos:].strip() == "":
                    break
                raise ValueError(f"cannot read {text[pos : pos + 30]!r}")
            kind = m.lastgroup
            tokens.append((kind, m.group(kind)))
            pos = m.end()
        self._tokens, self._at = tokens, 0
        value = self._comparison()
        if self._at != len(tokens):
            raise ValueError(f"left over: {tokens[self._at :]}")
        return value

    # ---- parsing, evaluating as it goes (the formulas have no side effects) -------------------------
    def _peek(self) -> tuple[str, str] | None:
        return self._tokens[self._at] if self._at < len(self._tokens) else None

    def _take(self, op: str | None = None) -> tuple[str, str]:
        token = self._tokens[self._at]
        if op is not None and token != ("op", op):
            raise ValueError(f"expected {op}, found {token}")
        self._at += 1
        return token

    def _binary(self, ops: tuple[str, ...], lower: Callable[[], Any], apply: Callable[[str, Any, Any], Any]) -> Any:
        value = lower()
        while (t := self._peek()) is not None and t[0] == "op" and t[1] in ops:
            self._take()
            value = _each2(lambda a, b, op=t[1]: _safe(apply, op, a, b), value, lower())
        return value

    def _comparison(self) -> Any:
        return self._binary(("=", "<>", "<", ">", "<=", ">="), self._concat, _compare)

    def _concat(self) -> Any:
        return self._binary(("&",), self._additive, lambda _, a, b: _text(a) + _text(b))

    def _additive(self) -> Any:
        return self._binary(("+", "-"), self._multiplicative, _arith)

    def _multiplicative(self) -> Any:
        return self._binary(("*", "/"), self._unary, _arith)

    def _unary(self) -> Any:
        t = self._peek()
        if t == ("op", "-"):
            self._take()
            return _each(lambda v: _arith("-", 0.0, v), self._unary())
        if t == ("op", "+"):
            self._take()
            return self._unary()
        return self._primary()

    def _primary(self) -> Any:
        kind, text = self._take()
        if kind == "str":
            return text[1:-1].replace('""', '"')
        if kind == "num":
            return float(text)
        if kind == "ref":
            return self._ref(text)
        if kind == "op" and text == "(":
            value = self._comparison()
            self._take(")")
            return value
        if kind == "name":
            if self._peek() == ("op", "("):
                self._take("(")
                args = []
                if self._peek() != ("op", ")"):
                    args.append(self._lazy())
                    while self._peek() == ("op", ","):
                        self._take()
                        args.append(self._lazy())
                self._take(")")
                return _call(text.upper(), args)
            if text.upper() in ("TRUE", "FALSE"):
                return text.upper() == "TRUE"
            value = self.names[text]
            return self._ref(value) if isinstance(value, str) and value.startswith("=") else value
        raise ValueError(f"unexpected {text!r}")

    def _lazy(self) -> Any:
        return self._comparison()  # no formula here depends on IF's laziness: both branches are values

    def _ref(self, text: str) -> Any:
        text = text.removeprefix("=")
        sheet = self.here
        if "!" in text:
            sheet, text = text.rsplit("!", 1)
            sheet = sheet.strip("'").replace("''", "'")
        cells = self.cells.get(sheet, {})
        parts = text.split(":")
        (c1, r1), *rest = [_CELL.fullmatch(p).groups() for p in parts]  # type: ignore[union-attr]
        if not rest:
            return cells.get(f"{c1}{r1}")
        c2, r2 = rest[0]
        assert c1 == c2, "one column at a time"
        return [cells.get(f"{c1}{r}") for r in range(int(r1), int(r2) + 1)]


def _safe(apply: Callable[[str, Any, Any], Any], op: str, a: Any, b: Any) -> Any:
    try:
        return apply(op, a, b)
    except _Raised as e:
        return e.error


def _each(f: Callable[[Any], Any], v: Any) -> Any:
    return [f(x) for x in v] if isinstance(v, list) else f(v)


def _each2(f: Callable[[Any, Any], Any], a: Any, b: Any) -> Any:
    if isinstance(a, list) or isinstance(b, list):
        n = len(a) if isinstance(a, list) else len(b)
        a = a if isinstance(a, list) else [a] * n
        b = b if isinstance(b, list) else [b] * n
        return [f(x, y) for x, y in zip(a, b)]
    return f(a, b)


def _text(v: Any) -> str:
    if isinstance(v, Error):
        raise _Raised(v)
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return sheet_text(v)


class _Raised(Exception):
    def __init__(self, error: Error):
        self.error = error


def _number(v: Any) -> float:
    if isinstance(v, Error):
        raise _Raised(v)
    if v is None:
        return 0.0
    if isinstance(v, bool):
        return float(v)
    n = sheet_number(v)
    if n is None:
        raise _Raised(Error("#VALUE!"))
    return n


def _arith(op: str, a: Any, b: Any) -> Any:
    try:
        x, y = _number(a), _number(b)
    except _Raised as e:
        return e.error
    return {"+": x + y, "-": x - y, "*": x * y, "/": x / y if y else Error("#DIV/0!")}[op]


def _compare(op: str, a: Any, b: Any) -> Any:
    for v in (a, b):
        if isinstance(v, Error):
            return v
    a = "" if a is None and isinstance(b, str) else 0.0 if a is None else a
    b = "" if b is None and isinstance(a, str) else 0.0 if b is None else b
    rank = lambda v: 2 if isinstance(v, bool) else 1 if isinstance(v, str) else 0  # noqa: E731
    if rank(a) != rank(b):
        key_a, key_b = rank(a), rank(b)
    elif isinstance(a, str):
        key_a, key_b = a.casefold(), b.casefold()
    else:
        key_a, key_b = (
            sheet_number(a) if not isinstance(a, bool) else a,
            sheet_number(b) if not isinstance(b, bool) else b,
        )
    return {
        "=": key_a == key_b,
        "<>": key_a != key_b,
        "<": key_a < key_b,
        ">": key_a > key_b,
        "<=": key_a <= key_b,
        ">=": key_a >= key_b,
    }[op]


def _truth(v: Any) -> bool:
    if isinstance(v, Error):
        raise _Raised(v)
    if isinstance(v, str):
        raise _Raised(Error("#VALUE!"))
    return bool(v)


def _call(name: str, args: list[Any]) -> Any:
    try:
        return _FUNCTIONS[name](*args)
    except _Raised as e:
        return e.error


def _if(cond: Any, yes: Any = True, no: Any = False) -> Any:
    return yes if _truth(cond) else no


def _find(needle: Any, haystack: Any) -> Any:
    where = _text(haystack).find(_text(needle))
    return Error("#VALUE!") if where < 0 else float(where + 1)


def _match(value: Any, within: list[Any], how: Any) -> Any:
    assert how == 0, "exact match only"
    for i, v in enumerate(within, 1):
        if _compare("=", value, v) is True:
            return float(i)
    return Error("#N/A")


def _index(within: list[Any], n: Any) -> Any:
    if isinstance(n, Error):
        return n
    value = within[int(n) - 1]
    return value


def _sumproduct(values: Any) -> float:
    values = values if isinstance(values, list) else [values]
    total = 0.0
    for v in values:
        if isinstance(v, Error):
            raise _Raised(v)
        total += v if isinstance(v, float) else 0.0
    return total


_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "IF": _if,
    "AND": lambda *a: all(_truth(x) for x in a),
    "LEN": lambda v: float(len(_text(v))),
    "TRIM": lambda v: _each(lambda x: sheet_trim(_text(x)), v),
    "LOWER": lambda v: _each(lambda x: _text(x).lower(), v),
    "MID": lambda t, start, n: _text(t)[int(_number(start)) - 1 : int(_number(start)) - 1 + int(_number(n))],
    "FIND": _find,
    "ISNUMBER": lambda v: sheet_number(v) is not None and not isinstance(v, Error),
    "INT": lambda v: float(math.floor(_number(v))),
    "SIGN": lambda v: float((_number(v) > 0) - (_number(v) < 0)),
    "INDEX": _index,
    "MATCH": _match,
    "SUMPRODUCT": _sumproduct,
}


def column_letter(n: int) -> str:
    return _letters(n)


def column_number(letters: str) -> int:
    return _col_number(letters)
