"""Template specs: the one schema behind generation, reading, validation and the master.

A spec is a YAML file in ``workbook_templates/``. Everything that knows about a column -- its
header, type, dropdown, width, help text, whether it is required -- reads it from here, so an
organisation can add a column by editing YAML and every stage follows with no code change.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import cached_property, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from cascadebook.spec import roles as _roles
from cascadebook.spec.units import number_format_for, parse_unit_formats

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
    role: str = ""  # what the code relies on this sheet for (spec/roles.py: initiatives, kpis, checkin)

    def by_role(self, role: str) -> Column | None:
        """The column with ``role``, or None: the code finds the columns it needs this way, never by key."""
        return self._roles.get(role)

    def key_of(self, role: str) -> str:
        """The key of the column with ``role`` ("" when the sheet has none: ``values.get("")`` is None)."""
        col = self._roles.get(role)
        return col.key if col is not None else ""

    def header_of(self, role: str) -> str:
        """The header of the column with ``role`` ("" when the sheet has none)."""
        col = self._roles.get(role)
        return col.header if col is not None else ""

    def label_of(self, role: str) -> str:
        """What the master calls the values of ``role``: the column's header, else the catalogue's
        conventional one (a Budget column of a derived table when the sheet has no budget)."""
        return self.header_of(role) or _roles.ROLES[role].header

    @cached_property
    def _roles(self) -> dict[str, Column]:
        return {c.role: c for c in self.columns if c.role}

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
    bundled: bool = False  # one of the package's own specs (load_spec by name)
    unit_formats: tuple[tuple[str, str], ...] = ()  # `unit_formats:` (unit -> number format), over the defaults

    def number_format(self, unit: object, currency: str | None = "", values: Iterable[Any] = ()) -> str:
        """The number format of a value in ``unit`` by this spec's table (spec/units.py)."""
        return number_format_for(unit, currency, dict(self.unit_formats), values)

    def sheet(self, key: str) -> SheetSpec:
        for sheet in self.sheets:
            if sheet.key == key:
                return sheet
        raise KeyError(f"spec {self.name!r} has no sheet {key!r}")

    def sheet_by_role(self, role: str) -> SheetSpec | None:
        """The sheet with ``role`` (initiatives, kpis, ...), or None."""
        return next((s for s in self.sheets if s.role == role), None)

    def require_sheet(self, role: str) -> SheetSpec:
        """The sheet with ``role``, for code that cannot go on without it (the master needs the
        initiatives); a SpecError naming the spec when it has none."""
        sheet = self.sheet_by_role(role)
        if sheet is None:
            raise SpecError(f"{self.origin} has no sheet of role {role!r} (give one sheet `role: {role}`)")
        return sheet

    def sheet_key(self, role: str) -> str:
        """The key of the sheet with ``role`` ("" when the spec has none)."""
        sheet = self.sheet_by_role(role)
        return sheet.key if sheet is not None else ""

    def fingerprint(self) -> str:
        """A stable hash of what reading a workbook depends on, signed into every template (format 2),
        so a return whose spec was edited without a new ``version:`` is noticed.

        It covers each sheet's key, title (case aside), id prefix and prefilled rows, and each column's
        key, header (as headers are matched: case, spaces and ``*`` aside), type, required, choices,
        source and prefilled (and the same for ``fields``). It leaves out what only lays the template out
        (help texts, widths, intros, input rows), the order of sheets, columns and choices (columns are
        found by their header), and the name and version (signed on their own)."""
        return self._fingerprint

    @cached_property
    def _fingerprint(self) -> str:
        def column(c: Column) -> list:
            return [
                c.key,
                normalise_header(c.header),
                c.type,
                c.required,
                sorted(c.choices),
                c.source or "",
                c.prefilled,
            ]

        sheets = sorted(
            [s.key, s.title.casefold(), s.id_prefix, s.prefilled_rows, sorted(map(column, s.columns))]
            for s in self.sheets
        )
        blob = json.dumps(
            {"sheets": sheets, "fields": sorted(map(column, self.fields))},
            separators=(",", ":"),
            sort_keys=True,
            default=str,
        )
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    @property
    def label(self) -> str:
        """``department@1.0``: how findings name a spec."""
        return f"{self.name}@{self.version}"

    @property
    def origin(self) -> str:
        """Where the spec comes from, for messages: its file, or ``the bundled department spec``."""
        return f"the bundled {self.name} spec" if self.bundled or not self.path else self.path


SPEC_KEYS = ("name", "version", "sheets", "fields", "unit_formats")
SHEET_KEYS = ("key", "title", "intro", "id_prefix", "prefilled_rows", "input_rows", "columns", "role")
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


def _column(raw: dict, where: str) -> Column:
    _check_keys(raw, COLUMN_KEYS, where)
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


def _list(value: Any, where: str) -> list:
    """A spec's list (sheets, columns, fields): a YAML list or nothing, else a SpecError (not a traceback)."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise SpecError(f"{where}: expected a list, found {type(value).__name__} {value!r}")
    return value


def parse_spec(data: dict, path: str = "<spec>") -> Spec:
    _check_keys(data, SPEC_KEYS, f"{path}:")
    sheets = []
    for i, raw in enumerate(_list(data.get("sheets"), f"{path}: sheets")):
        where = f"{path}: sheets[{i}]"
        _check_keys(raw, SHEET_KEYS, where)
        if "key" not in raw:
            raise SpecError(f"{where}: sheet needs 'key'")
        columns = tuple(
            _column(c, f"{where}.columns[{j}]") for j, c in enumerate(_list(raw.get("columns"), f"{where}.columns"))
        )
        keys = [c.key for c in columns]
        if len(set(keys)) != len(keys):
            raise SpecError(f"{where}: duplicate column keys")
        try:
            rows = {k: int(raw.get(k, 0)) for k in ("prefilled_rows", "input_rows")}
        except (TypeError, ValueError) as exc:
            raise SpecError(f"{where}: {exc}") from None
        sheets.append(
            SheetSpec(
                key=str(raw["key"]),
                title=str(raw.get("title", raw["key"])),
                columns=columns,
                intro=str(raw.get("intro", "")).strip(),
                id_prefix=str(raw.get("id_prefix", "")),
                role=str(raw.get("role") or ""),
                **rows,
            )
        )
    fields_ = tuple(
        _column(c, f"{path}: fields[{j}]") for j, c in enumerate(_list(data.get("fields"), f"{path}: fields"))
    )
    for j, col in enumerate(fields_):
        if col.role:
            raise SpecError(f"{path}: fields[{j}]: role {col.role!r}: roles are for the columns of sheets")
    try:
        unit_formats = parse_unit_formats(data.get("unit_formats"), path)
    except ValueError as exc:
        raise SpecError(str(exc)) from None
    return Spec(
        name=str(data.get("name", Path(path).stem)),
        version=str(data.get("version", "1")),
        sheets=_with_roles(sheets, path),
        fields=fields_,
        path=path,
        unit_formats=tuple(unit_formats.items()),
    )


def _with_roles(sheets: list[SheetSpec], path: str) -> tuple[SheetSpec, ...]:
    """The sheets with their roles checked against the catalogue (spec/roles.py), or a SpecError.

    A spec with no sheet role gives its sheets roles by their conventional keys, and a sheet with no
    column role gives its columns roles by theirs: a spec written before roles existed behaves as it
    did (what it lacks is simply not there, as before, with no error). A sheet that names roles must
    name all the roles its sheet role requires, each once, on a column of a fitting type."""
    if not any(s.role for s in sheets):
        sheets = [replace(s, role=_roles.conventional_sheet_role(s.key)) for s in sheets]
    by_role: dict[str, SheetSpec] = {}
    for i, sheet in enumerate(sheets):
        where = f"{path}: sheets[{i}]"
        if sheet.role and sheet.role not in _roles.SHEET_ROLES:
            raise SpecError(
                f"{where}: sheet {sheet.key!r} has unknown role {sheet.role!r}"
                f"{did_you_mean(sheet.role, _roles.SHEET_ROLES)} (roles of sheets: {', '.join(_roles.SHEET_ROLES)})"
            )
        if sheet.role in by_role:
            raise SpecError(
                f"{where}: role {sheet.role!r} is on sheets {by_role[sheet.role].key!r} and {sheet.key!r}; "
                "a spec has one sheet of each role"
            )
        if sheet.role:
            by_role[sheet.role] = sheet
    out = []
    for i, sheet in enumerate(sheets):
        if any(c.role for c in sheet.columns):
            _check_roles(sheet, by_role, f"{path}: sheets[{i}]")
        elif sheet.role:
            sheet = replace(sheet, columns=_conventional_columns(sheet, by_role))
        out.append(sheet)
    return tuple(out)


def _conventional_columns(sheet: SheetSpec, by_role: dict[str, SheetSpec]) -> tuple[Column, ...]:
    """A sheet's columns with the roles their conventional keys give them; a reference role (the
    objective, the initiative) whose key the sheet lacks goes to the first reference column to its
    source, as the code found it before roles."""
    columns = [replace(c, role=_roles.conventional_role(sheet.role, c.key)) for c in sheet.columns]
    given = {c.role for c in columns}
    for role in _roles.ROLES.values():
        if not role.source or role.name in given or sheet.role not in role.sheets:
            continue
        source = role.source if role.source == "objectives" else getattr(by_role.get(role.source), "key", "")
        at = next(
            (i for i, c in enumerate(columns) if not c.role and c.type == "reference" and c.source == source), None
        )
        if source and at is not None:
            columns[at] = replace(columns[at], role=role.name)
    return tuple(columns)


def _check_roles(sheet: SheetSpec, by_role: dict[str, SheetSpec], where: str) -> None:
    """The column roles of one sheet that names them: known, fitting the sheet, once each, complete."""
    seen: dict[str, str] = {}
    for j, col in enumerate(sheet.columns):
        if not col.role:
            continue
        at = f"{where}.columns[{j}]"
        role = _roles.ROLES.get(col.role)
        if role is None:
            raise SpecError(
                f"{at}: column {col.key!r} has unknown role {col.role!r}{did_you_mean(col.role, _roles.ROLES)}"
            )
        if not sheet.role:
            raise SpecError(
                f"{at}: column {col.key!r} has role {col.role!r} but sheet {sheet.key!r} has no role "
                f"(give the sheet one of: {', '.join(_roles.SHEET_ROLES)})"
            )
        if sheet.role not in role.sheets:
            raise SpecError(
                f"{at}: role {col.role!r} does not belong on sheet {sheet.key!r} (of role {sheet.role!r}); "
                f"it belongs on sheets of role {', '.join(role.sheets)}"
            )
        if col.role in seen:
            raise SpecError(
                f"{at}: role {col.role!r} is used twice on sheet {sheet.key!r} (columns {seen[col.role]!r} and "
                f"{col.key!r}); a sheet has one column of each role"
            )
        seen[col.role] = col.key
        if col.type not in role.types:
            raise SpecError(
                f"{at}: column {col.key!r} has role {col.role!r}, which needs type "
                f"{' or '.join(sorted(role.types))}; found {col.type!r}"
            )
        if col.type == "reference" and role.source:
            wanted = role.source if role.source == "objectives" else getattr(by_role.get(role.source), "key", "")
            if col.source != wanted:
                raise SpecError(
                    f"{at}: column {col.key!r} has role {col.role!r}, so its source must be "
                    f"{wanted or 'the ' + role.source + ' sheet'!r}; found {col.source!r}"
                )
    for name in _roles.required(sheet.role):
        if name not in seen:
            raise SpecError(
                f"{where}: role {name!r} is required on sheet {sheet.key!r} (of role {sheet.role!r}): "
                f"give one of its columns `role: {name}`"
            )


def load_spec(name_or_path: str | Path = "department") -> Spec:
    """Load a spec by bundled name (``department``) or from a YAML file path."""
    candidate = Path(name_or_path)
    if candidate.suffix in (".yaml", ".yml") or candidate.exists():
        try:
            text = candidate.read_text(encoding="utf-8")
        except OSError as exc:
            raise SpecError(f"cannot read the template spec {candidate}: {exc.strerror or exc}") from None
        except UnicodeDecodeError:
            raise SpecError(
                f"the template spec {candidate} is not UTF-8 text: save it as UTF-8 (in Notepad: "
                "Save as, Encoding UTF-8)"
            ) from None
        path = str(candidate)
    else:
        res = resources.files("cascadebook.workbook_templates").joinpath(f"{name_or_path}.yaml")
        if not res.is_file():
            raise SpecError(f"no bundled template spec named {name_or_path!r}")
        text = res.read_text(encoding="utf-8")
        path = f"{name_or_path}.yaml"
    try:
        data = read_yaml(path, text)
    except YamlSyntaxError as exc:
        raise SpecError(str(exc)) from None
    spec = parse_spec(data or {}, path)
    return spec if path == str(candidate) else replace(spec, bundled=True)


@lru_cache(maxsize=8192)
def normalise_header(text: object) -> str:
    """Header matching that survives what people do: case, spaces, a required-marker star."""
    return re.sub(r"\s+", " ", str(text or "").replace("*", "")).strip().casefold()


# ---- which spec a cycle uses --------------------------------------------------------------------

BUNDLED_SPEC = "department"
CYCLE_SPEC_FILE = "department.yaml"  # what `cascadebook init` writes beside the strategy


def _strategy_parts(strategy: object) -> tuple[Path | None, str]:
    """(the strategy file, its ``spec:`` value) from a loaded Strategy or a path."""
    if strategy is None:
        return None, ""
    if isinstance(strategy, (str, Path)):
        return Path(strategy), ""
    source = getattr(strategy, "source", "") or ""
    return (Path(source) if source else None), str(getattr(strategy, "spec", "") or "")


def resolve_spec(explicit: str | Path | None = None, strategy: object = None) -> Spec:
    """The department template spec a command uses, in this order:

    1. ``explicit`` (``--spec``): a bundled name or a YAML file;
    2. the strategy's ``spec:`` field: a YAML file relative to the strategy file, or a bundled name;
    3. ``department.yaml`` beside the strategy file (``cascadebook init`` writes it there);
    4. the bundled ``department`` spec.

    ``strategy`` is a loaded :class:`~cascadebook.model.Strategy` (its ``source`` and ``spec``) or
    the strategy file's path. Raises :class:`SpecError` when the spec named cannot be used.
    """
    if explicit not in (None, ""):
        return load_spec(explicit)
    path, named = _strategy_parts(strategy)
    folder = path.absolute().parent if path is not None else None
    if named:
        relative = Path(named)
        if folder is not None and not relative.is_absolute():
            relative = folder / relative
        if relative.suffix.lower() in (".yaml", ".yml") or relative.exists():
            if not relative.is_file():
                raise SpecError(
                    f"the strategy {path.name if path else ''} names the template spec {named!r}, "
                    f"but {relative} does not exist"
                )
            return load_spec(relative)
        return load_spec(named)
    if folder is not None and (folder / CYCLE_SPEC_FILE).is_file():
        return load_spec(folder / CYCLE_SPEC_FILE)
    return load_spec(BUNDLED_SPEC)


def spec_candidates(in_use: Spec, strategy: object = None) -> tuple[Spec, ...]:
    """Other specs a returned workbook may have been made with: the YAML specs in the strategy's
    folder (and the folder of the spec in use), then those in their subfolders (one level, e.g. a
    copy of ``department.yaml`` kept in ``sent/``), then the bundled one. The spec in use is not
    repeated; specs of one name and version whose content differs (:meth:`Spec.fingerprint`) are all
    kept, the first found first.

    Files that are not department specs (the strategy itself, a broken spec) are passed over: a
    return that needs one of them is refused with a finding naming the spec it asks for.
    """
    path, _ = _strategy_parts(strategy)
    folders = []
    for folder in (
        path.absolute().parent if path is not None else None,
        Path(in_use.path).absolute().parent
        if in_use.path and not in_use.bundled and Path(in_use.path).is_file()
        else None,
    ):
        if folder is not None and folder.is_dir() and folder not in folders:
            folders.append(folder)
    found: list[Spec] = []
    seen = {(in_use.name, in_use.version, in_use.fingerprint())}  # an edited copy of a version is another spec
    files = [f for folder in folders for f in _yaml_files(folder)]
    files += [f for folder in folders for sub in _subfolders(folder) for f in _yaml_files(sub)]
    for file in files:
        try:
            if file.stat().st_size > 1_000_000:
                continue
            text = file.read_text(encoding="utf-8")
            if "sheets" not in text:  # not parsed: an export's hierarchy.yaml, a strategy
                continue
            data = read_yaml(file, text)
            if not (isinstance(data, dict) and "sheets" in data and "name" in data):
                continue
            spec = parse_spec(data, str(file))
        except (OSError, ValueError, TypeError):  # SpecError and YamlSyntaxError are ValueErrors
            continue
        if (spec.name, spec.version, spec.fingerprint()) not in seen:
            seen.add((spec.name, spec.version, spec.fingerprint()))
            found.append(spec)
    bundled = load_spec(BUNDLED_SPEC)
    if (bundled.name, bundled.version, bundled.fingerprint()) not in seen:
        found.append(bundled)
    return tuple(found)


def _yaml_files(folder: Path) -> list[Path]:
    try:
        return [f for f in sorted(folder.iterdir()) if f.suffix.lower() in (".yaml", ".yml") and f.is_file()]
    except OSError:
        return []


def _subfolders(folder: Path) -> list[Path]:
    try:
        return [d for d in sorted(folder.iterdir()) if d.is_dir() and not d.name.startswith(".")]
    except OSError:
        return []


def find_spec(
    name: str, version: str, in_use: Spec, candidates: Iterable[Spec] = (), fingerprint: str = ""
) -> Spec | None:
    """The spec a workbook signed ``name``/``version`` (and, from format 2 on, ``fingerprint``) was made
    with: of the spec in use and the candidates with that name and version, the first whose
    :meth:`Spec.fingerprint` is ``fingerprint``, else the first of them (the spec in use when it is one;
    the caller compares fingerprints to tell the spec was edited since), else None. A workbook that names
    no spec is read with the spec in use."""
    if not name or not version:
        return in_use
    same = [s for s in (in_use, *candidates) if (s.name, s.version) == (name, version)]
    if fingerprint:
        for spec in same:
            if spec.fingerprint() == fingerprint:
                return spec
    return same[0] if same else None
