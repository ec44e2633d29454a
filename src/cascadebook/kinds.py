"""What kind of file cascadebook wrote: every workbook it writes says so in its metadata.

The kind is the custom document property ``cascadebook.kind`` (``meta:kind`` once :mod:`sniff` has
parsed the package), so intake knows what a workbook is before it reads a single row, whatever the
file is called. Department templates and check-in workbooks also carry it, signed, in their hidden
``_cascadebook`` sheet (:class:`~cascadebook.model.Metadata`).

Returns, read by ``reconcile`` and ``status``: ``plan`` (a department's template) and ``checkin``
(a check-in workbook). A feedback copy (``cascadebook feedback``) keeps the metadata of the workbook
it annotates, so it is a return too. Every other kind is the tool's own output and is skipped with a
``not-a-return`` finding: ``master``, ``diff``, ``strategy`` (a strategy workbook), ``export``
(stamped in ``hierarchy.yaml``), and any kind a later version adds (decision workbooks, ...).

A master, diff or strategy workbook written before the kind was stamped is recognised by its layout
(``returns._older_output``).
"""

from __future__ import annotations

from typing import Any

PLAN = "plan"
CHECKIN = "checkin"
MASTER = "master"
DIFF = "diff"
STRATEGY = "strategy"
EXPORT = "export"
DECISIONS = "decisions"

RETURN_KINDS = frozenset({PLAN, CHECKIN})

# The metadata every workbook carries: its custom document properties are named cascadebook.<field>.
# Format 2: templates and check-ins also sign spec_fingerprint (Spec.fingerprint); format 1 (without
# it) is still read and verified as it was. Format 3 (the cascade) signs the unit's level and, for a unit
# aligned to its parent's plan, the parent and the plan's fingerprint; format 2 templates reconcile as before.
FORMAT_VERSION = "3"
# The tool's own outputs (master, diff, decision and strategy workbooks) carry their own format version: the
# cascade changed what templates sign, not how an output is known, so a flat master is as it was.
OUTPUT_FORMAT_VERSION = "2"
META_PROPERTY_PREFIX = "cascadebook."

# The diff workbook's layout (``diff.write_diff_workbook``), spelled once: an unstamped one is known by it.
DIFF_CHANGES_SHEET, DIFF_COVERAGE_SHEET = "Changes", "Coverage"
DIFF_CHANGES_COLUMNS = ("Sheet", "Change", "ID", "Department", "Title", "Field", "Old", "New")
DIFF_LEVEL_COLUMN = "Level"  # after those, only when the diff knows a nested org tree (issue 20)

_DESCRIPTIONS = {
    PLAN: "a department's plan template",
    CHECKIN: "a department's check-in workbook",
    MASTER: "a cascadebook master workbook",
    DIFF: "a cascadebook diff workbook (the changes between two masters)",
    STRATEGY: "a cascadebook strategy workbook",
    EXPORT: "a cascadebook export",
    DECISIONS: "a cascadebook decision workbook (finance's decisions for one department)",
}


def is_return(kind: str) -> bool:
    """Whether a workbook of this kind is something a department sends back."""
    return kind in RETURN_KINDS


def describe(kind: str) -> str:
    """'a cascadebook master workbook'; a kind this version does not know is named as it is."""
    return _DESCRIPTIONS.get(kind, f"a cascadebook {kind!r} workbook")


def stamp(book: Any, kind: str, *, cycle: str = "", generated_at: str = "") -> None:
    """Write ``cascadebook.kind`` (with the format version, and the cycle and time when given) into an
    xlsxwriter workbook's custom document properties. Outputs are not signed: the kind only has to be
    read, and a forged one can only make intake skip a file, with a finding that names it."""
    for name, value in (
        ("format_version", OUTPUT_FORMAT_VERSION),
        ("kind", kind),
        ("cycle", cycle),
        ("generated_at", generated_at),
    ):
        if value:
            book.set_custom_property(META_PROPERTY_PREFIX + name, value)


# ---- the layout every reader relies on (the writers in template/ and master/ use the same names)
META_SHEET = "_cascadebook"
PARENT_PLAN_SHEET = "Parent plan"  # a cascaded template's reference sheet: its parent unit's initiatives  # the hidden sheet of a template's signed metadata
CHECK_HEADER = "Check"  # the live-check column right after the spec's columns; reconcile does not take it
DEPARTMENT_HEADER = "Department"  # the master's data tables: the column naming each row's department
MASTER_ROW_SOURCE_HEADERS = ("Source file", "Source row")  # the master's data tables: where each row came from
# The master's Findings sheet: its title, then its table's headers (read back by `cascadebook decisions`).
MASTER_FINDINGS_HEADERS = (
    "Findings",
    "Severity",
    "Code",
    "Department",
    "File",
    "Sheet",
    "Cell",
    "Message",
    "Hint",
    "Link",
)
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xltx", ".xltm", ".ods", ".xls", ".xlsb")  # what intake tries to read
