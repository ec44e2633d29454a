"""Template specs: the one schema behind generation, reading, validation and the master.

A spec is a YAML file in ``workbook_templates/``. Everything that knows about a column -- its
header, type, dropdown, width, help text, whether it is required -- reads it from here, so an
organisation can add a column by editing YAML and every stage follows with no code change.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

import yaml

TYPES = frozenset(
    {"text", "number", "integer", "percent", "currency", "date", "period", "choice", "reference", "boolean",
     "allocation"}
)
NUMERIC_TYPES = frozenset({"number", "integer", "percent", "currency"})


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

    @property
    def is_input(self) -> bool:
        return not self.prefilled


@dataclass(frozen=True)
class SheetSpec:
    key: str
    title: str
    columns: tuple[Column, ...]
    intro: str = ""
    id_prefix: str = ""
    prefilled_rows: int = 0
    input_rows: int = 0

    def column(self, key: str) -> Column:
        for col in self.columns:
            if col.key == key:
                return col
        raise KeyError(f"sheet {self.key!r} has no column {key!r}")

    def has(self, key: str) -> bool:
        return any(col.key == key for col in self.columns)

    @property
    def input_columns(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.is_input)

    def make_id(self, department: str, number: int) -> str:
        return f"{department}-{self.id_prefix}{number:02d}"


@dataclass(frozen=True)
class Spec:
    name: str
    version: str
    sheets: tuple[SheetSpec, ...]
    fields: tuple[Column, ...] = field(default=())
    path: str = ""

    def sheet(self, key: str) -> SheetSpec:
        for sheet in self.sheets:
            if sheet.key == key:
                return sheet
        raise KeyError(f"spec {self.name!r} has no sheet {key!r}")


def _column(raw: dict, where: str) -> Column:
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
        )
    except KeyError as exc:
        raise SpecError(f"{where}: column needs {exc.args[0]!r}") from None
    if col.type not in TYPES:
        raise SpecError(f"{where}: column {col.key!r} has unknown type {col.type!r}")
    if col.type == "choice" and not col.choices:
        raise SpecError(f"{where}: choice column {col.key!r} needs choices")
    if col.type == "reference" and not col.source:
        raise SpecError(f"{where}: reference column {col.key!r} needs a source")
    if not re.fullmatch(r"[a-z][a-z0-9_]*", col.key):
        raise SpecError(f"{where}: column key {col.key!r} must be snake_case")
    return col


def parse_spec(data: dict, path: str = "<spec>") -> Spec:
    sheets = []
    for i, raw in enumerate(data.get("sheets", ())):
        where = f"{path}: sheets[{i}]"
        columns = tuple(_column(c, where) for c in raw.get("columns", ()))
        keys = [c.key for c in columns]
        if len(set(keys)) != len(keys):
            raise SpecError(f"{where}: duplicate column keys")
        sheets.append(
            SheetSpec(
                key=str(raw["key"]),
                title=str(raw.get("title", raw["key"])),
                columns=columns,
                intro=str(raw.get("intro", "")).strip(),
                id_prefix=str(raw.get("id_prefix", "")),
                prefilled_rows=int(raw.get("prefilled_rows", 0)),
                input_rows=int(raw.get("input_rows", 0)),
            )
        )
    fields_ = tuple(_column(c, f"{path}: fields") for c in data.get("fields", ()))
    return Spec(
        name=str(data.get("name", Path(path).stem)),
        version=str(data.get("version", "1")),
        sheets=tuple(sheets),
        fields=fields_,
        path=path,
    )


def load_spec(name_or_path: str | Path = "department") -> Spec:
    """Load a spec by bundled name (``department``) or from a YAML file path."""
    candidate = Path(name_or_path)
    if candidate.suffix in (".yaml", ".yml") or candidate.exists():
        text = candidate.read_text(encoding="utf-8")
        path = str(candidate)
    else:
        res = resources.files("cascadebook.workbook_templates").joinpath(f"{name_or_path}.yaml")
        if not res.is_file():
            raise SpecError(f"no bundled template spec named {name_or_path!r}")
        text = res.read_text(encoding="utf-8")
        path = f"{name_or_path}.yaml"
    return parse_spec(yaml.safe_load(text) or {}, path)


@lru_cache(maxsize=8192)
def normalise_header(text: object) -> str:
    """Header matching that survives what people do: case, spaces, a required-marker star."""
    return re.sub(r"\s+", " ", str(text or "").replace("*", "")).strip().casefold()
