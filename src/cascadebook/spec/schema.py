"""Template specs: the one schema behind generation, reading, validation and the master.

A spec is a YAML file in ``workbook_templates/``. Everything that knows about a column -- its
header, type, dropdown, width, help text, whether it is required -- reads it from here, so an
organisation can add a column by editing YAML and every stage follows with no code change.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

from cascadebook.kinds import DEPARTMENT_HEADER, MASTER_ROW_SOURCE_HEADERS
from cascadebook.spec import roles as _roles
from cascadebook.spec.columns import (  # re-exported: the spec's names are all found here
    BUNDLED_SPEC,
    COLUMN_KEYS,
    TYPES,
    Column,
    SpecError,
    YamlSyntaxError,
    _check_keys,
    _list,
    did_you_mean,
    normalise_header,
    parse_column,
    read_yaml,
    unknown_keys,
)
from cascadebook.spec.review import ReviewSpec, bundled_review, parse_review
from cascadebook.spec.units import number_format_for, parse_unit_formats

__all__ = [
    "BUNDLED_SPEC",
    "COLUMN_KEYS",
    "CYCLE_SPEC_FILE",
    "TYPES",
    "Column",
    "ReviewSpec",
    "SheetSpec",
    "Spec",
    "SpecError",
    "YamlSyntaxError",
    "did_you_mean",
    "find_spec",
    "load_spec",
    "normalise_header",
    "parse_spec",
    "read_yaml",
    "resolve_spec",
    "spec_candidates",
    "unknown_keys",
]


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
    # `review:`: the master's review columns (the bundled spec's when a spec has none); not in fingerprint():
    # they never reach a template
    review: ReviewSpec = field(default_factory=ReviewSpec, compare=False)

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


SPEC_KEYS = ("name", "version", "sheets", "fields", "unit_formats", "review")
SHEET_KEYS = ("key", "title", "intro", "id_prefix", "prefilled_rows", "input_rows", "columns", "role")


def parse_spec(data: dict, path: str = "<spec>") -> Spec:
    _check_keys(data, SPEC_KEYS, f"{path}:")
    sheets = []
    for i, raw in enumerate(_list(data.get("sheets"), f"{path}: sheets")):
        where = f"{path}: sheets[{i}]"
        _check_keys(raw, SHEET_KEYS, where)
        if "key" not in raw:
            raise SpecError(f"{where}: sheet needs 'key'")
        columns = tuple(
            parse_column(c, f"{where}.columns[{j}]")
            for j, c in enumerate(_list(raw.get("columns"), f"{where}.columns"))
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
        parse_column(c, f"{path}: fields[{j}]") for j, c in enumerate(_list(data.get("fields"), f"{path}: fields"))
    )
    for j, col in enumerate(fields_):
        if col.role:
            raise SpecError(f"{path}: fields[{j}]: role {col.role!r}: roles are for the columns of sheets")
    try:
        unit_formats = parse_unit_formats(data.get("unit_formats"), path)
    except ValueError as exc:
        raise SpecError(str(exc)) from None
    sheets_with_roles = _with_roles(sheets, path)
    if "review" in data:
        review = parse_review(data.get("review"), f"{path}: review")
    else:
        review = bundled_review()
    _check_review_headers(review, sheets_with_roles, path, "review" in data)
    return Spec(
        name=str(data.get("name", Path(path).stem)),
        version=str(data.get("version", "1")),
        sheets=sheets_with_roles,
        fields=fields_,
        path=path,
        unit_formats=tuple(unit_formats.items()),
        review=review,
    )


def _check_review_headers(review: ReviewSpec, sheets: tuple[SheetSpec, ...], path: str, own: bool) -> None:
    """The review columns sit on the master's Initiatives table, which is read back by header: no review
    header may be that of an initiatives column or of the table's own columns."""
    sheet = next((s for s in sheets if s.role == _roles.INITIATIVES), None)
    if sheet is None:
        return
    taken = {normalise_header(c.header): c.key for c in sheet.columns}
    taken.update({normalise_header(h): h for h in (DEPARTMENT_HEADER, *MASTER_ROW_SOURCE_HEADERS)})
    for col in review.columns:
        clash = taken.get(normalise_header(col.header))
        if clash is not None:
            whose = "" if own else " (the bundled spec's review columns, as this spec has no `review:`)"
            raise SpecError(
                f"{path}: review column {col.key!r}{whose} has the header {col.header!r}, which the master's "
                f"{sheet.title} table already has ({clash!r}); give the review column another header"
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


# ---- which spec a cycle uses --------------------------------------------------------------------

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
