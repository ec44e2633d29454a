"""Reading returned workbooks: sniff the file, find its identity, pull every row with its cells.

This is the hot path (hundreds of workbooks per run), so values come through python-calamine, and
the package is checked once by :mod:`cascadebook.intake.gate` (hostile files, document properties,
formulas without values); nothing here loads a whole workbook object model. A file that cannot be
read becomes findings, never an exception.

What people do to the sheets, and what happens:

* rows inserted, deleted, sorted, left blank in between: every row below the header with a value
  in an input column is a record, wherever it is; blank rows are skipped;
* columns inserted or moved: columns are found by their header text, not their position; a column
  the template does not have (with or without a header) is an ``extra-column`` finding naming its
  rows, so its values are never silently dropped;
* a sheet renamed: found by its title cell or its header row (``sheet-renamed``); extra sheets are
  reported with their non-empty rows (``extra-sheet``);
* formulas: calamine gives cached values; a formula with no cached value is ``formula-without-value``;
* a value typed far from the plan (``A1048576``, ``XFD5``): sniff leaves it out of the sheet calamine
  reads, the plan is read, and a ``stray-cell`` warning names the cell and its value;
* the hidden metadata gone (a rebuilt or copied workbook): identity comes from the visible titles
  ("Initiatives — Marketing (MKT), FY2027") and prefilled ids (``identified-by-content``);
* metadata that disagrees with itself or with the visible titles (copied from another department's
  template): ``identity_problem`` is set, and reconcile rejects the file as a signature mismatch;
* the tool's own outputs (a master, a diff or strategy workbook saved among the returns): their
  ``cascadebook.kind`` says they are no return (:mod:`cascadebook.kinds`), read before any sheet is, and
  the file is skipped with ``not-a-return``; a master or strategy workbook of an earlier version, which
  has no kind, is recognised by its layout.
"""

from __future__ import annotations

import io
import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

from cascadebook.findings import Finding
from cascadebook.intake.decision_cells import edited_cells
from cascadebook.intake.gate import MAX_CELLS, Package, Refused, SheetScan, inspect
from cascadebook.kinds import (
    CHECK_HEADER,
    DEPARTMENT_HEADER,
    DIFF,
    DIFF_CHANGES_COLUMNS,
    DIFF_CHANGES_SHEET,
    DIFF_COVERAGE_SHEET,
    MASTER,
    META_SHEET,
    PARENT_PLAN_SHEET,
    STRATEGY,
    describe,
    is_return,
)
from cascadebook.model import Metadata, Origin, Record
from cascadebook.spec.roles import ID
from cascadebook.spec.schema import SheetSpec, Spec, load_spec, normalise_header
from cascadebook.spec.values import is_blank
from cascadebook.xlsx.addresses import CellRefs, a1, row_ranges

HEADER_SCAN_ROWS = 30
MAX_ROWS = 20_000  # rows of one sheet that are read; a department plan has tens
INSTRUCTIONS_TITLE = "Instructions"
# The visible identity the generator writes (templates._instructions and templates._input_sheet).
INPUT_TITLE_RE = re.compile(r"^(?P<sheet>.+?) — (?P<name>.*)\((?P<code>[^()]+)\),\s*(?P<cycle>\S+)(?:\s.*)?$")
INSTRUCTIONS_TITLE_RE = re.compile(r"^(?P<cycle>\S+) goal plan — (?P<name>.*)\((?P<code>[^()]+)\)\s*$")

Rows = list[list[Any]]


@dataclass
class Return:
    """What one returned file holds, before identity checks and validation."""

    path: str
    file: str  # the name shown to users (relative to the input given)
    metadata: Metadata | None = None
    modified: str = ""  # ISO time (UTC) the workbook was last saved, for newest-wins
    records: dict[str, list[Record]] = field(default_factory=dict)
    sheet_names: dict[str, str] = field(default_factory=dict)  # spec sheet key -> name in the file
    findings: list[Finding] = field(default_factory=list)
    status: str = "read"  # read, unreadable; reconcile sets accepted / superseded / rejected
    reason: str = ""
    identified_by: str = ""  # "metadata sheet", "document properties" or "content"
    content_departments: tuple[str, ...] = ()  # identified by content: every department code its rows' ids show
    read_findings: int = 0  # how many of ``findings`` reading made (reconcile's identity findings come after)
    identity_problem: str = ""  # metadata copies that disagree: reconcile rejects the file
    received: str = ""  # when the file arrived (an e-mail's date), if known; newest-wins prefers it
    validated: bool = False  # records hold typed values, and row_findings the row rules' findings
    row_findings: list[Finding] = field(default_factory=list)
    totals: dict[str, float] = field(default_factory=dict)  # rows per sheet, budget, headcount (validated)
    spec_problem: str = ""  # signed with a spec that is not found (checkin.read_any): reconcile refuses it
    origin: Origin | None = None  # the message it came in (inbox), None for a plain file

    @property
    def department(self) -> str:
        return self.metadata.department if self.metadata else ""

    @property
    def row_count(self) -> int:
        return sum(len(rows) for rows in self.records.values())

    def fail(self, code: str, message: str, **where: Any) -> Return:
        self.status = "unreadable"
        self.reason = message
        self.findings.append(Finding(code, message, file=self.file, **where))
        return self

    def skip(self, kind: str, how: str = "") -> Return:
        """Not a department's return (the tool's own output, see kinds.py): skipped, with a finding."""
        self.status = "skipped"
        self.reason = f"{describe(kind)}, not a department's return"
        self.findings.append(
            Finding(
                "not-a-return",
                f"{self.file} is {describe(kind)}{how}, not a department's return; skipped",
                file=self.file,
            )
        )
        return self


def read_return(
    path: str | Path,
    spec: Spec,
    file: str | None = None,
    *,
    spec_for: Callable[[Mapping[str, str]], Spec] | None = None,
) -> Return:
    """Read one returned file; problems become findings on the Return, never exceptions.

    ``spec_for``, when given, picks the spec from the document properties sniff already parsed
    (``meta:<field>`` keys), so a caller that reads several kinds of workbook opens each file once.
    """
    path = Path(path)
    ret = Return(path=str(path), file=file or path.name)
    try:
        return _read(path, spec, ret, spec_for)
    except MemoryError:
        return ret.fail("file-unreadable", "the workbook is too large to read")
    except Exception as exc:  # noqa: BLE001 - a hostile or broken file must never stop the batch
        return ret.fail("file-unreadable", f"cannot read the workbook ({type(exc).__name__}: {exc})"[:300])


@dataclass
class _Content:
    """The identity a workbook shows on its visible sheets."""

    code: str
    cycle: str
    where: str  # e.g. "the title of sheet 'Initiatives'"


class _Book:
    """A calamine workbook whose sheets are loaded at most once and only within the size limits."""

    def __init__(self, path: Path, package: Package, ret: Return):
        from python_calamine import CalamineWorkbook

        self.package = package
        self.ret = ret
        self.book = None
        if package.kind == "xlsx" or package.calamine_parts:  # the parts sniff checked (see Package.for_calamine)
            try:
                self.book = CalamineWorkbook.from_filelike(io.BytesIO(package.for_calamine()))
            except Exception:  # noqa: BLE001 - a calamine that opens parts sniff does not know: the file itself
                self.book = None
        if self.book is None:
            if package.kind == "ods" and package.calamine_parts:  # never the file itself: its stray values
                raise Refused(
                    "sheet-too-large",
                    "the spreadsheet has values far outside its tables and could "
                    "not be read without them; it was not read",
                )
            self.book = CalamineWorkbook.from_path(str(path))
        self.names = list(self.book.sheet_names)
        self._rows: dict[str, Rows | None] = {}
        self.too_large: dict[str, str] = {}  # sheet name -> message
        self.strays: dict[str, SheetScan] = {}  # sheet name -> its scan, for sheets read without stray values
        self._trimmed: tuple[frozenset[str], Any] | None = None  # (sheet parts left lean, calamine workbook)

    def rows(self, name: str) -> Rows | None:
        if name not in self._rows:
            self._rows[name] = self._load(name)
        return self._rows[name]

    def _load(self, name: str) -> Rows | None:
        cells = self.package.cells(name)
        if cells > MAX_CELLS:
            scan = self.package.scan(name)
            size = f"reaches row {scan.rows:,} and column {scan.cols:,}" if scan else f"spans {cells:,} cells"
            self.too_large[name] = (
                f"the sheet {name!r} {size} (at least), more than the {MAX_CELLS:,} cells "
                "cascadebook reads; it was not read"
            )
            return None
        scan = self.package.scan(name)
        book = self.book
        if scan is not None and scan.stray_count:
            book = self._without_strays() if self.package.kind == "xlsx" else self.book  # an ods: read so
            if book is None:
                self.too_large[name] = (
                    f"the sheet {name!r} has values far outside the plan ({_strays_named(scan)}) "
                    "and could not be read without them; it was not read"
                )
                return None
            self.strays[name] = scan
        sheet = book.get_sheet_by_name(name)
        rows = sheet.to_python(skip_empty_area=False, nrows=MAX_ROWS)
        end = sheet.end
        if end is not None and end[0] + 1 > MAX_ROWS:
            self.too_large[name] = (
                f"the sheet {name!r} has values down to row {end[0] + 1:,}; only rows "
                f"1-{MAX_ROWS:,} were read, rows {MAX_ROWS + 1:,}-{end[0] + 1:,} were not"
            )
        return rows

    def _without_strays(self):
        """A calamine workbook of the package as it is now: sheets with stray values without them
        (sniff replaced those parts when it scanned them). Made again when another such sheet is scanned."""
        from python_calamine import CalamineWorkbook

        parts = frozenset(s.part for s in self.package.sheets.values() if s.stray_count)
        if self._trimmed is None or self._trimmed[0] != parts:
            if self._trimmed is not None:
                self._trimmed[1].close()
            try:
                book = CalamineWorkbook.from_filelike(io.BytesIO(self.package.for_calamine()))
            except Exception:  # noqa: BLE001 - reported as a sheet that was not read
                self._trimmed = None
                return None
            self._trimmed = (parts, book)
        return self._trimmed[1]

    def close(self) -> None:
        self.book.close()
        if self._trimmed is not None:
            self._trimmed[1].close()


def _read(path: Path, spec: Spec, ret: Return, spec_for: Callable[[Mapping[str, str]], Spec] | None = None) -> Return:
    try:
        package = inspect(path)
    except Refused as refused:
        return ret.fail(refused.code, refused.message)
    kind = package.props.get("meta:kind", "")
    # The tool's own output, known before any sheet is opened. Outputs are not signed: a signed workbook
    # (a template) is decided by its signed metadata, never skipped on an unsigned property.
    if kind and not is_return(kind) and not package.props.get("meta:signature"):
        return ret.skip(kind)
    if spec_for is not None:
        spec = spec_for(package.props)
    if package.macros:
        ret.findings.append(Finding("macro-enabled", "the workbook contains macros; they were not run", file=ret.file))
    ret.modified = (
        package.props.get("modified")
        or datetime.fromtimestamp(path.stat().st_mtime, timezone.utc).replace(microsecond=0).isoformat()
    )
    if package.kind == "ods" and package.largest > MAX_CELLS:  # calamine parses every ODS sheet on open
        return ret.fail(
            "sheet-too-large",
            f"a sheet spans more than the {MAX_CELLS:,} cells cascadebook reads; the spreadsheet was not read",
        )
    try:
        book = _Book(path, package, ret)
    except Refused as refused:
        return ret.fail(refused.code, refused.message)
    try:
        return _read_book(book, package, spec, ret)
    finally:
        book.close()


def _read_book(book: _Book, package: Package, spec: Spec, ret: Return) -> Return:

    names = {n.casefold(): n for n in book.names}
    meta_name = names.get(META_SHEET.casefold())
    placed, renamed = _place_sheets(book, spec, names, meta_name)
    content = _content_identity(book, spec, placed, names)
    sheet_meta = _sheet_metadata(book, meta_name)
    props_meta = Metadata.from_mapping({k[5:]: v for k, v in package.props.items() if k.startswith("meta:")})
    if sheet_meta is not None and not is_return(sheet_meta.kind):
        return ret.skip(sheet_meta.kind)
    if sheet_meta is None and props_meta is None:
        older = _older_output(book, spec, placed, names)
        if older is not None:
            return ret.skip(*older)
    _identify(ret, spec, sheet_meta, props_meta, content)
    if ret.metadata is None:
        return ret.fail(
            "not-a-template", "the workbook has no cascadebook metadata, and its sheets do not show a template's titles"
        )
    where = dict(file=ret.file, department=ret.department)
    for sheet in spec.sheets:
        name = placed.get(sheet.key)
        if name is None:
            ret.findings.append(
                Finding("missing-sheet", f"the {sheet.title!r} sheet is missing", sheet=sheet.title, **where)
            )
            ret.records[sheet.key] = []
            continue
        if sheet.key in renamed:
            ret.findings.append(
                Finding(
                    "sheet-renamed",
                    f"the {sheet.title!r} sheet was found as {name!r} (by its {renamed[sheet.key]})",
                    sheet=name,
                    **where,
                )
            )
        ret.sheet_names[sheet.key] = name
        rows = book.rows(name)
        ret.records[sheet.key] = [] if rows is None else _records(rows, sheet, name, ret, package)
    if ret.identified_by == "content":
        ret.content_departments = _departments_in_ids(spec, ret.records)
    for name in book.names:
        if name in placed.values() or name == meta_name or _is_reference_sheet(book, name):
            continue
        rows = book.rows(name)
        if rows is None:
            continue
        numbers = tuple(r for r, row in enumerate(rows, 1) if any(not is_blank(v) for v in row))
        if numbers:
            ret.findings.append(
                Finding(
                    "extra-sheet",
                    f"the sheet {name!r} is not part of the template; its {len(numbers)} non-empty "
                    f"row(s) ({row_ranges(numbers)}) are not in the master",
                    sheet=name,
                    cell=f"A{numbers[0]}",
                    rows=numbers,
                    **where,
                )
            )
    for name, message in book.too_large.items():
        ret.findings.append(Finding("sheet-too-large", message, sheet=name, **where))
    for name, scan in book.strays.items():
        count = scan.stray_count
        ret.findings.append(
            Finding(
                "stray-cell",
                f"{'1 value' if count == 1 else f'{count:,} values'} far below or right of the rest "
                f"of the sheet {name!r} {'was' if count == 1 else 'were'} not read: {_strays_named(scan)} (the sheet "
                f"was read as A1:{a1(*scan.region)})",
                sheet=name,
                cell=_excel_cell(*scan.strays[0][:2]),
                rows=scan.stray_rows,
                **where,
            )
        )
    return ret


STRAYS_NAMED = 10  # stray values named in a finding's message; the rest are counted


def _strays_named(scan: SheetScan) -> str:
    """``XFD5 'typed by mistake', A1048576 42 and 3 more``: the first stray values, cell and value."""
    named = [f"{a1(r, c)} {_shown(text)}" for r, c, text in scan.strays[:STRAYS_NAMED]]
    more = scan.stray_count - len(named)
    return ", ".join(named) + (f" and {more:,} more" if more > 0 else "")


def _excel_cell(row: int, col: int) -> str:
    """The A1 of a cell Excel has (a crafted reference beyond XFD1048576 gets none: no link to it)."""
    return a1(row, col) if row <= 1_048_576 and col <= 16_384 else ""


def _shown(text: str, limit: int = 60) -> str:
    try:
        float(text)
        return text
    except ValueError:
        return repr(text if len(text) <= limit else text[: limit - 1] + "…")


# ---- which sheet is which ---------------------------------------------------------------------


def _title(rows: Rows | None) -> str:
    if rows and rows[0] and isinstance(rows[0][0], str):
        return rows[0][0].strip()
    return ""


def _place_sheets(
    book: _Book, spec: Spec, names: dict[str, str], meta_name: str | None
) -> tuple[dict[str, str], dict[str, str]]:
    """Spec sheet key -> sheet name, by title; sheets not found by title are recognised by content."""
    placed = {s.key: names[s.title.casefold()] for s in spec.sheets if s.title.casefold() in names}
    renamed: dict[str, str] = {}
    missing = [s for s in spec.sheets if s.key not in placed]
    if not missing:
        return placed, renamed
    others = [
        n for n in book.names if n not in placed.values() and n != meta_name and n.casefold() not in _reference_titles()
    ]
    for sheet in missing:
        best, best_score, how = None, 0.0, ""
        for name in others:
            if name in placed.values():
                continue
            rows = book.rows(name)
            if rows is None:
                continue
            match = INPUT_TITLE_RE.match(_title(rows))
            if match and match["sheet"].strip().casefold() == sheet.title.casefold():
                best, best_score, how = name, 2.0, "title"
                break
            _, columns = find_header(rows, sheet)
            required = [c.key for c in sheet.columns if c.required]
            if all(k in columns for k in required) and len(columns) * 2 >= len(sheet.columns):
                score = len(columns) / len(sheet.columns)
                if score > best_score:
                    best, best_score, how = name, score, "header row"
        if best is not None:
            placed[sheet.key] = best
            renamed[sheet.key] = how
    return placed, renamed


@lru_cache(maxsize=1)
def _objectives_sheet() -> SheetSpec:
    return load_spec("strategy").sheet("objectives")


@lru_cache(maxsize=1)
def _reference_titles() -> frozenset[str]:
    return frozenset(
        {INSTRUCTIONS_TITLE.casefold(), _objectives_sheet().title.casefold(), PARENT_PLAN_SHEET.casefold()}
    )


def _is_reference_sheet(book: _Book, name: str) -> bool:
    """The template's own read-only sheets (Instructions, Objectives, a cascaded template's Parent plan),
    the first two even when renamed."""
    if name.casefold() in _reference_titles():
        return True
    rows = book.rows(name)
    if rows is None:
        return False
    if INSTRUCTIONS_TITLE_RE.match(_title(rows)):
        return True
    objectives = _objectives_sheet()
    header, columns = find_header(rows, objectives)
    return header == 0 and len(columns) == len(objectives.columns)


def _content_identity(book: _Book, spec: Spec, placed: dict[str, str], names: dict[str, str]) -> _Content | None:
    """The department and cycle the visible sheets show: title cells first, then the prefilled ids."""
    candidates = [(placed[s.key], INPUT_TITLE_RE) for s in spec.sheets if s.key in placed]  # loaded anyway
    instructions = names.get(INSTRUCTIONS_TITLE.casefold())
    if instructions is not None:
        candidates.append((instructions, INSTRUCTIONS_TITLE_RE))
    for name, pattern in candidates:
        match = pattern.match(_title(book.rows(name)))
        if match:
            return _Content(match["code"].strip(), match["cycle"].strip(), f"the title of sheet {name!r}")
    for sheet in spec.sheets:  # no title: the prefilled ids ("MKT-I01") give the department
        name = placed.get(sheet.key)
        rows = book.rows(name) if name else None
        id_key = sheet.key_of(ID)
        if not rows or not id_key or not sheet.id_prefix:
            continue
        header, columns = find_header(rows, sheet)
        if id_key not in columns:
            continue
        pattern = re.compile(rf"^(?P<code>.+)-{re.escape(sheet.id_prefix)}\d{{2,}}$")
        at = columns[id_key]
        codes = Counter(
            m["code"] for row in rows[header + 1 :] if len(row) > at for m in [pattern.match(str(row[at]).strip())] if m
        )
        if codes:
            return _Content(codes.most_common(1)[0][0], "", f"the ids on sheet {name!r}")
    return None


def _older_output(book: _Book, spec: Spec, placed: dict[str, str], names: dict[str, str]) -> tuple[str, str] | None:
    """(kind, how recognised) of the tool's own output written before kinds were stamped, by layout:
    a strategy workbook has the strategy spec's sheets (a template has its Objectives, never its
    Departments); a master's Initiatives and KPIs tables start at A1 with a Department column."""
    strategy_titles = [s.title.casefold() for s in _strategy_spec().sheets]
    if not placed and all(t in names for t in strategy_titles):  # a template's input sheets: not a strategy
        shown = ", ".join(repr(names[t]) for t in strategy_titles)
        return STRATEGY, f" (no kind stamped: recognised by its sheets {shown})"
    changes = names.get(DIFF_CHANGES_SHEET.casefold())
    if changes is not None and DIFF_COVERAGE_SHEET.casefold() in names:
        rows = book.rows(changes)
        first = [str(v).strip() for v in rows[0]] if rows else []
        if first[: len(DIFF_CHANGES_COLUMNS)] == list(DIFF_CHANGES_COLUMNS):
            return DIFF, f" (no kind stamped: recognised by its {changes!r} and {DIFF_COVERAGE_SHEET!r} sheets)"

    for sheet in spec.sheets:
        rows = book.rows(placed[sheet.key]) if sheet.key in placed else None
        if (
            rows
            and rows[0]
            and isinstance(rows[0][0], str)
            and find_header(rows, sheet)[0] == 0
            and normalise_header(rows[0][0]) == normalise_header(DEPARTMENT_HEADER)
        ):
            return MASTER, (
                f" (no kind stamped: recognised by the {DEPARTMENT_HEADER!r} column of its {placed[sheet.key]!r} table)"
            )
    return None


@lru_cache(maxsize=1)
def _strategy_spec() -> Spec:
    return load_spec("strategy")


def _departments_in_ids(spec: Spec, records: dict[str, list[Record]]) -> tuple[str, ...]:
    """The department codes the rows' ids show ("MKT-I01" -> MKT), sorted; for content identity."""
    codes: set[str] = set()
    for sheet in spec.sheets:
        if not sheet.by_role(ID) or not sheet.id_prefix:
            continue
        pattern = re.compile(rf"^(?P<code>.+)-{re.escape(sheet.id_prefix)}\d{{2,}}$")
        for record in records.get(sheet.key, ()):
            match = pattern.match(record.id.strip())
            if match:
                codes.add(match["code"])
    return tuple(sorted(codes))


# ---- identity ----------------------------------------------------------------------------------


def _sheet_metadata(book: _Book, meta_name: str | None) -> Metadata | None:
    if meta_name is None:
        return None
    rows = book.rows(meta_name)
    pairs = {}
    for row in rows or []:
        if len(row) >= 2 and isinstance(row[0], str):
            pairs[row[0].strip()] = row[1]
    return Metadata.from_mapping(pairs)


def _identify(
    ret: Return, spec: Spec, sheet_meta: Metadata | None, props_meta: Metadata | None, content: _Content | None
) -> None:
    """Set ret.metadata and how it was found; note any disagreement between the copies."""
    if sheet_meta is not None:
        ret.metadata, ret.identified_by = sheet_meta, "metadata sheet"
        if props_meta is not None and _differs(sheet_meta, props_meta):
            ret.identity_problem = (
                f"the hidden metadata sheet says {_who(sheet_meta)} but the document "
                f"properties say {_who(props_meta)}: the metadata was copied or edited"
            )
    elif props_meta is not None:
        ret.metadata, ret.identified_by = props_meta, "document properties"
    elif content is not None:
        ret.metadata = Metadata(
            format_version="",
            cycle=content.cycle,
            department=content.code,
            spec_name=spec.name,
            spec_version="",
            fingerprint="",
            generated_at="",
        )
        ret.identified_by = "content"
        ret.reason = f"identified by {content.where}"
        return
    else:
        return
    meta = ret.metadata
    if (
        not ret.identity_problem
        and content is not None
        and (
            content.code.casefold() != meta.department.casefold()
            or (content.cycle and content.cycle.casefold() != meta.cycle.casefold())
        )
    ):
        ret.identity_problem = (
            f"the metadata says {_who(meta)} but {content.where} says "
            f"{content.code}{', ' + content.cycle if content.cycle else ''}: the metadata "
            "was copied from another template"
        )


def _differs(a: Metadata, b: Metadata) -> bool:
    return (a.signed_text(), a.signature) != (b.signed_text(), b.signature)


def _who(meta: Metadata) -> str:
    return f"{meta.department}, {meta.cycle}"


# ---- rows ----------------------------------------------------------------------------------------


def find_header(rows: Rows, sheet: SheetSpec) -> tuple[int, dict[str, int]]:
    """The header row (0-based) and column key -> 0-based column, found by header text, not position."""
    wanted = _wanted_headers(sheet)
    complete = len(set(wanted.values()))
    best, best_map = -1, {}
    for r, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        found = {}
        for c, value in enumerate(row):
            key = wanted.get(_normalised(value)) if isinstance(value, str) else None
            if key and key not in found:
                found[key] = c
        if len(found) > len(best_map):
            best, best_map = r, found
            if len(found) == complete:  # no later row can find more (the first best row wins)
                break
    return best, best_map


_WANTED: dict[int, tuple[SheetSpec, dict[str, str]]] = {}


def _wanted_headers(sheet: SheetSpec) -> dict[str, str]:
    """Normalised header -> column key, once per sheet object (keyed by identity, as rules._columns)."""
    hit = _WANTED.get(id(sheet))
    if hit is None or hit[0] is not sheet:
        hit = _WANTED[id(sheet)] = (sheet, {normalise_header(c.header): c.key for c in sheet.columns})
    return hit[1]


@lru_cache(maxsize=4096)
def _normalised(text: str) -> str:
    return normalise_header(text)


def _records(rows: Rows, sheet: SheetSpec, name: str, ret: Return, package: Package) -> list[Record]:
    header, columns = find_header(rows, sheet)
    where = dict(file=ret.file, sheet=name, department=ret.department)
    if header < 0:
        ret.findings.append(Finding("missing-column", f"no header row of the {sheet.title!r} sheet was found", **where))
        return []
    for col in sheet.columns:
        if col.key not in columns:
            code = "missing-column" if col.required else "optional-column-missing"
            ret.findings.append(
                Finding(code, f"the column {col.header!r} is missing", cell=f"{a1(header + 1, 1)}", **where)
            )
    input_keys = [c.key for c in sheet.columns if c.is_input and c.key in columns]
    shown = {normalise_header(h) for h in ret.metadata.display_headers(sheet.key)} if ret.metadata else set()
    mapped = set(columns.values()) | {c for c, v in enumerate(rows[header]) if _is_generated_header(v, shown)}
    if shown and ret.metadata is not None and ret.metadata.decision_values:  # typed over finance's decisions
        ret.findings.extend(
            edited_cells(
                rows,
                header,
                columns.get(sheet.key_of(ID)),
                ret.metadata.display_headers(sheet.key),
                ret.metadata.decision_values,
                where,
            )
        )
    records = []
    extra_values: dict[int, list[int]] = {}
    # Worked out once per sheet, not per row: the columns looked at and the A1 of every cell (CellRefs).
    items = list(columns.items())
    needed = max(columns.values(), default=-1) + 1  # rows at least this wide need no bounds check
    inputs = [columns[k] for k in input_keys]
    refs = {key: c + 1 for key, c in items}
    unmapped_by_width: dict[int, list[int]] = {}
    sheet_key, department, file, id_key = sheet.key, ret.department, ret.file, sheet.key_of(ID)
    for r in range(header + 1, len(rows)):
        row = rows[r]
        width = len(row)
        unmapped = unmapped_by_width.get(width)
        if unmapped is None:
            unmapped = unmapped_by_width[width] = [c for c in range(width) if c not in mapped]
        for c in unmapped:
            v = row[c]
            if v != "" and not is_blank(v):  # calamine gives "" for an empty cell: said first
                extra_values.setdefault(c, []).append(r + 1)
        for c in inputs:
            if c < width:
                v = row[c]
                if v != "" and not is_blank(v):
                    break
        else:  # every input cell blank: not a record
            continue
        if width >= needed:
            values = {key: row[c] for key, c in items}
        else:
            values = {key: row[c] if c < width else None for key, c in items}
        records.append(Record(sheet_key, department, file, name, r + 1, values, CellRefs(r + 1, refs), id_key))
    header_row = rows[header]
    for c, found_rows in sorted(extra_values.items()):
        title = header_row[c] if c < len(header_row) and not is_blank(header_row[c]) else None
        label = repr(title) if title is not None else f"{a1(header + 1, c + 1).rstrip('0123456789')} (no header)"
        ret.findings.append(
            Finding(
                "extra-column",
                f"the column {label} is not part of the template; its "
                f"{len(found_rows)} value(s) (rows {row_ranges(tuple(found_rows))}) are not in the master",
                cell=a1(header + 1, c + 1),
                rows=tuple(found_rows),
                **where,
            )
        )
    scan = package.scan(name)
    if scan is not None and scan.uncached:
        inputs = {columns[k] + 1 for k in input_keys}
        for row, col in sorted(scan.uncached):
            if row > header + 1 and col in inputs:
                ret.findings.append(
                    Finding(
                        "formula-without-value",
                        f"{a1(row, col)} holds a formula that was never calculated, so "
                        "its value is unknown (read as blank)",
                        cell=a1(row, col),
                        **where,
                    )
                )
    return records


def _is_generated_header(value: Any, shown: frozenset[str] | set[str] = frozenset()) -> bool:
    """A column the template itself adds after the spec's columns (the live Check column, and the read-only
    decision columns its signed metadata names, ``shown``: normalised headers): not data."""
    if not isinstance(value, str):
        return False
    header = normalise_header(value)
    return header == normalise_header(CHECK_HEADER) or header in shown
