"""A spec's columns and the checks every part of a spec shares: what a column is, how one is parsed from
YAML, how headers are matched, and the one-line ``SpecError`` a mistake in a spec becomes.

Split from schema.py so that the spec's sections (its sheets there, the master's review columns in
review.py) are each parsed in their own module from the same pieces.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

BUNDLED_SPEC = "department"  # the package's own department spec (workbook_templates/department.yaml)

TYPES = frozenset(
    {
        "text",
        "number",
        "integer",
        "percent",
        "currency",
        "date",
        "period",
        "choice",
        "reference",
        "boolean",
        "allocation",
    }
)


class SpecError(ValueError):
    """A spec file that cannot drive a template (a programming or configuration error)."""


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    type: str = "text"
    required: bool = False
    width: float = 14
    help: str = ""
    choices: tuple[str, ...] = ()
    source: str | None = None  # for reference columns: "objectives" or a sheet key
    prefilled: bool = False  # filled by the generator (ids), not by the department
    role: str = ""  # what the code relies on this column for (spec/roles.py); "" for a plain column
    records: str = ""  # a review snapshot column: the initiative column role whose value it keeps when decided

    @property
    def is_input(self) -> bool:
        return not self.prefilled


COLUMN_KEYS = ("key", "header", "type", "required", "width", "help", "choices", "source", "prefilled", "role")


def did_you_mean(word: object, known: Iterable[str]) -> str:
    """`` (did you mean 'target'?)`` for a misspelling close to one of ``known``, else ``""``."""
    close = difflib.get_close_matches(str(word), list(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def unknown_keys(data: object, known: Iterable[str]) -> list[tuple[str, str]]:
    """(key, "unknown key 'wieght' (did you mean 'weight'?)") for every key of a mapping not in ``known``."""
    if not isinstance(data, dict):
        return []
    known = tuple(known)
    return [(str(k), f"unknown key {str(k)!r}{did_you_mean(k, known)}") for k in data if str(k) not in known]


def _check_keys(raw: object, known: tuple[str, ...], where: str) -> None:
    if not isinstance(raw, dict):
        raise SpecError(f"{where.rstrip(':')}: expected a mapping of {', '.join(known)}")
    for key, message in unknown_keys(raw, known):
        raise SpecError(f"{where}{' ' if where.endswith(':') else '.'}{key}: {message}")


def read_yaml(path: str | Path, text: str | None = None) -> object:
    """Parse a YAML file; a syntax error says the file, line and column (not ``<unicode string>``)."""
    path = Path(path)
    if text is None:
        text = path.read_text(encoding="utf-8")
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(path, exc) from None


class YamlSyntaxError(ValueError):
    """A YAML file that does not parse; the message names the file and the line."""

    def __init__(self, path: Path, exc: Exception):
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        context = getattr(exc, "context", None)
        self.path = path
        self.line = mark.line + 1 if mark is not None else None
        self.detail = f"YAML syntax error{at}: {problem}" + (f" ({context})" if context else "")
        super().__init__(f"{path}: {self.detail}")


def parse_column(raw: dict[str, Any], where: str, keys: tuple[str, ...] = COLUMN_KEYS) -> Column:
    """A column from its YAML mapping (``keys``: the keys it may have), or a SpecError naming ``where``."""
    _check_keys(raw, keys, where)
    try:
        col = Column(
            key=str(raw["key"]),
            header=str(raw["header"]),
            type=str(raw.get("type", "text")),
            required=bool(raw.get("required", False)),
            width=float(raw.get("width", 14)),
            help=str(raw.get("help", "")),
            choices=tuple(str(c) for c in raw.get("choices", ())),
            source=raw.get("source"),
            prefilled=bool(raw.get("prefilled", False)),
            role=str(raw.get("role") or ""),
            records=str(raw.get("records") or ""),
        )
    except KeyError as exc:
        raise SpecError(f"{where}: column needs {exc.args[0]!r}") from None
    except (TypeError, ValueError) as exc:  # width: wide, choices: 3 ...
        raise SpecError(f"{where}: {exc}") from None
    if col.type not in TYPES:
        raise SpecError(f"{where}: column {col.key!r} has unknown type {col.type!r}")
    if col.type == "choice" and not col.choices:
        raise SpecError(f"{where}: choice column {col.key!r} needs choices")
    if col.type == "reference" and not col.source:
        raise SpecError(f"{where}: reference column {col.key!r} needs a source")
    if not re.fullmatch(r"[a-z][a-z0-9_]*", col.key):
        raise SpecError(f"{where}: column key {col.key!r} must be snake_case")
    return col


def _list(value: Any, where: str) -> list[Any]:
    """A spec's list (sheets, columns, fields): a YAML list or nothing, else a SpecError (not a traceback)."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise SpecError(f"{where}: expected a list, found {type(value).__name__} {value!r}")
    return value


@lru_cache(maxsize=8192)
def normalise_header(text: object) -> str:
    """Header matching that survives what people do: case, spaces, a required-marker star."""
    return re.sub(r"\s+", " ", str(text or "").replace("*", "")).strip().casefold()
