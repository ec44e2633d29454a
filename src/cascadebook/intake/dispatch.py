"""Reading any return, plan or check-in, with the template spec it was made with.

Every file reconcile reads goes through :func:`read_any`: check-ins (``kind: checkin`` in their
signed metadata) with the bundled check-in spec, plans with the spec of the name, version and
fingerprint they were signed with, found among the specs beside the strategy or bundled.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

from cascadebook.findings import Finding
from cascadebook.intake.reader import Return, read_return
from cascadebook.kinds import CHECKIN
from cascadebook.spec.schema import SheetSpec, Spec, find_spec, load_spec
from cascadebook.xlsx.addresses import row_ranges

CHECKIN_KIND = CHECKIN  # kinds.py: a return, like a plan
HISTORY_SHEET = "Earlier check-ins"


@lru_cache(maxsize=1)
def checkin_spec() -> Spec:
    """The bundled check-in spec."""
    return load_spec("checkin")


def is_checkin(ret: Return) -> bool:
    return ret.metadata is not None and ret.metadata.kind == CHECKIN_KIND


def read_any(path: str | Path, spec: Spec, file: str | None = None, specs: Sequence[Spec] = ()) -> Return:
    """Read a returned workbook with the spec its metadata asks for: check-ins with the check-in spec,
    plans with the spec of the name and version they were signed with (``spec`` when it is that one,
    else the first of ``specs`` that is).

    The kind and spec come from the document properties the reader parses anyway (one open per file);
    a workbook whose properties were lost is read once more when its hidden metadata turns out to ask
    for another spec. A plan whose spec is nowhere to be found is read with ``spec`` (so its rows can
    be named) and ``spec_problem`` says why it cannot be taken.
    """
    chosen: list[Spec] = []

    def pick(kind: str | None, name: str | None, version: str | None, fingerprint: str | None) -> Spec | None:
        if kind == CHECKIN_KIND:
            return checkin_spec()
        return find_spec(str(name or ""), str(version or ""), spec, specs, str(fingerprint or ""))

    def spec_for(props) -> Spec:
        chosen.append(
            pick(
                props.get("meta:kind"),
                props.get("meta:spec_name"),
                props.get("meta:spec_version"),
                props.get("meta:spec_fingerprint"),
            )
            or spec
        )
        return chosen[-1]

    ret = read_return(path, spec, file, spec_for=spec_for)
    if ret.metadata is not None:
        meta = ret.metadata
        wanted = chosen[-1] if chosen else spec
        right = pick(meta.kind, meta.spec_name, meta.spec_version, meta.spec_fingerprint)
        if right is not None and right is not wanted:
            ret = read_return(path, right, file)
        elif right is None and wanted is not spec:
            ret = read_return(path, spec, file)
        if right is None and ret.metadata is not None:
            ret.spec_problem = (
                f"the workbook was made with the template spec {meta.spec_name}@{meta.spec_version}, "
                f"but this run uses {spec.name}@{spec.version} and no spec "
                f"{meta.spec_name}@{meta.spec_version} was found (beside the strategy, in a subfolder of it, or bundled); "
                f"put that spec's YAML file beside the strategy, or pass it with --spec"
            )
        elif right is not None and ret.metadata is not None and not is_checkin(ret):
            spec_changed(ret, right, spec)
    if is_checkin(ret):  # the check-in's own read-only history is not an extra sheet
        ret.findings = [f for f in ret.findings if not (f.code == "extra-sheet" and f.sheet == HISTORY_SHEET)]
    return ret


def spec_of(ret: Return, spec: Spec, specs: Sequence[Spec] = ()) -> Spec:
    """The spec a plan return was read with by :func:`read_any` (``spec`` when its own is not found)."""
    meta = ret.metadata
    if meta is None:
        return spec
    return find_spec(meta.spec_name, meta.spec_version, spec, specs, meta.spec_fingerprint) or spec


def spec_changed(ret: Return, used: Spec, in_use: Spec) -> None:
    """A plan signed with a spec fingerprint (format 2) other than that of ``used``, the spec of its name
    and version it was read with (``in_use`` or a candidate): that spec was edited after the template was
    generated, without a new ``version:``, and no copy of the spec as it was was found. Its rows were
    read with ``used``; each column (or sheet) of the workbook with values that ``used`` has not (renamed
    or removed from the spec) is a ``spec-changed`` warning in place of the ``extra-column`` (or
    ``extra-sheet``) note, so its values are not dropped with only a note; when there is none, one
    ``spec-changed`` warning for the file says the spec changed."""
    meta = ret.metadata
    if meta is None or not meta.spec_fingerprint or meta.spec_fingerprint == used.fingerprint():
        return
    read_with = "the spec in use" if used is in_use else f"the spec {used.label} it was read with"
    why = (
        f"the template was made from another edit of the spec {used.label} than {used.origin}, which was "
        f"changed after the template was sent without a new version number, and no copy of the spec as it "
        f"was is beside the strategy, in a subfolder of it, or bundled"
    )
    changed = 0
    for i, f in enumerate(ret.findings):
        # a column (or sheet) the template had; a column without a header was added by hand
        if f.code == "extra-sheet" or (f.code == "extra-column" and "(no header)" not in f.message):
            message = f.message.replace(" is not part of the template;", f" is not in {read_with};", 1)
            ret.findings[i] = replace(f, code="spec-changed", message=f"{message}: {why}")
            changed += 1
    if not changed:
        missing = [
            f"{f.sheet}: {f.message}" for f in ret.findings if f.code in ("missing-column", "optional-column-missing")
        ]
        ret.findings.append(
            Finding(
                "spec-changed",
                f"{why}; its rows were read with {read_with}" + (f" ({'; '.join(missing)})" if missing else ""),
                file=ret.file,
                department=ret.department,
            )
        )


def columns_outside(ret: Return, own: Spec, in_use: Spec) -> list[Finding]:
    """A return read with its own spec: its values in columns (or sheets) the spec in use has not,
    which the master, laid out by the spec in use, cannot show."""
    findings: list[Finding] = []
    own_label, in_use_label = own.label, in_use.label
    if own_label == in_use_label:  # an earlier edit of the same name and version: say which files
        own_label += f" of {own.origin}"
        in_use_label += f" of {in_use.origin}"

    def not_in_master(sheet: SheetSpec, what: str, numbers: tuple[int, ...], counted: str) -> None:
        findings.append(
            Finding(
                "spec-column-not-in-master",
                f"the {what} of the template spec {own_label} is not in the spec in "
                f"use ({in_use_label}); its {len(numbers)} {counted}{row_ranges(numbers)}) are not in the master",
                file=ret.file,
                sheet=ret.sheet_names.get(sheet.key, sheet.title),
                cell=f"A{numbers[0]}",
                department=ret.department,
                rows=numbers,
            )
        )

    for sheet in own.sheets:
        rows = ret.records.get(sheet.key) or []
        other = next((s for s in in_use.sheets if s.key == sheet.key), None)
        for col in sheet.columns if other is not None else ():
            if other.has(col.key):
                continue
            numbers = tuple(r.row for r in rows if r.values.get(col.key) not in (None, ""))
            if numbers:
                not_in_master(sheet, f"column {col.header!r}", numbers, "value(s) (rows ")
        if other is None and rows:
            not_in_master(sheet, f"sheet {sheet.title!r}", tuple(r.row for r in rows), "row(s) (")
    return findings
