"""The domain: a strategy (objectives, departments), what departments send back, and where it came from."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property
from typing import Any


@dataclass(frozen=True)
class Objective:
    id: str
    title: str
    metric: str = ""
    unit: str = ""
    baseline: float | None = None
    target: float | None = None
    direction: str = "increase"  # increase, decrease, maintain
    deadline: date | None = None
    owner: str = ""
    perspective: str = ""
    description: str = ""
    weight: float | None = None
    budget_cap: float | None = None

    @property
    def financial(self) -> bool:
        return self.perspective.casefold() == "financial"

    def moves_right_way(self, baseline: float, target: float) -> bool:
        """Whether going from baseline to target moves in this objective's direction."""
        if self.direction == "increase":
            return target > baseline
        if self.direction == "decrease":
            return target < baseline
        return True


@dataclass(frozen=True)
class Department:
    code: str
    name: str
    head: str = ""
    email: str = ""
    parent: str | None = None
    budget_cap: float | None = None
    headcount_cap: float | None = None
    # what the unit's plan aligns to: "objectives" (the corporate objectives) or "parent" (its parent
    # unit's plan, the cascade of issue 20); parsed and checked, not yet used by generate or reconcile
    aligns_to: str = "objectives"


@dataclass(frozen=True)
class Strategy:
    cycle: str
    objectives: tuple[Objective, ...]
    departments: tuple[Department, ...]
    periods: tuple[str, ...] = ("Q1", "Q2", "Q3", "Q4")
    company: str = ""
    vision: str = ""
    mission: str = ""
    response_deadline: date | None = None
    contact_name: str = ""
    contact_email: str = ""
    source: str = ""
    rag_green: float = 0.7  # progress check-ins: green at this share of the expected progress or more
    rag_amber: float = 0.4  # amber at this share or more, else red
    spec: str = ""  # the department template spec named by the strategy (spec.resolve_spec), as written
    currency: str = ""  # ISO code (USD, EUR) money is shown in (spec/units.py); "" for plain #,##0
    closes_at: date | None = None  # when the cycle closes (the intake portal's links expire); see closes_on

    @property
    def closes_on(self) -> date | None:
        """The day the cycle closes: ``closes_at``, else six weeks after the response deadline (late
        returns still come in after it), else None (never)."""
        if self.closes_at is not None:
            return self.closes_at
        return self.response_deadline + timedelta(weeks=6) if self.response_deadline else None

    def objective(self, objective_id: str) -> Objective | None:
        return self._objectives_by_id.get(objective_id.strip().casefold())

    @cached_property
    def _objectives_by_id(self) -> dict[str, Objective]:
        """Asked for every initiative (1.2 million times at 10,000 departments); the first wins."""
        found: dict[str, Objective] = {}
        for o in self.objectives:
            found.setdefault(o.id.casefold(), o)
        return found

    def department(self, code: str) -> Department | None:
        return self._departments_by_code.get(code.strip().casefold())

    @cached_property
    def _departments_by_code(self) -> dict[str, Department]:
        """Identity is checked per returned file: a scan per lookup was files × departments."""
        return {d.code.casefold(): d for d in self.departments}

    @property
    def cycle_year(self) -> int | None:
        match = re.search(r"(\d{4})", self.cycle)
        return int(match.group(1)) if match else None

    @cached_property
    def _fingerprint(self) -> str:
        canonical = [
            [o.id, o.title, o.metric, o.unit, o.baseline, o.target, o.direction, str(o.deadline or "")]
            for o in sorted(self.objectives, key=lambda o: o.id)
        ]
        blob = json.dumps(canonical, separators=(",", ":"), sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def fingerprint(self) -> str:
        """Identifies the objectives a template was generated from, to spot stale templates."""
        return self._fingerprint  # computed once: every returned file is compared with it


@dataclass(frozen=True)
class Record:
    """One row a department typed into an input sheet, each value with the cell it came from.

    Values are keyed by the spec's column keys, so a column added to the spec travels through
    reading, validation and the master without code knowing about it. ``id_key`` is the key of the
    sheet's id column (the spec's column of role ``id``): whoever reads a sheet with a spec says it.
    """

    sheet: str  # spec sheet key: initiatives, kpis
    department: str
    file: str
    sheet_name: str  # the sheet's name in the returned file
    row: int  # 1-based Excel row
    values: Mapping[str, Any] = field(default_factory=dict)
    cells: Mapping[str, str] = field(default_factory=dict)  # column key -> A1 in the returned file
    id_key: str = "id"  # the conventional key (spec/roles.py), for a record made without a spec

    @property
    def id(self) -> str:
        return str(self.values.get(self.id_key) or "")

    def get(self, key: str, default: Any = None) -> Any:
        value = self.values.get(key)
        return default if value is None else value


PROPERTY_CHARS = 255  # Excel's limit on a text document property


def _joined(data: Mapping[str, Any], name: str) -> str:
    """An optional metadata value, with the parts a document property was split into (``name~2``...)."""
    parts = [str(data.get(name) or "")]
    n = 2
    while data.get(f"{name}~{n}"):
        parts.append(str(data[f"{name}~{n}"]))
        n += 1
    return "".join(parts).strip()


@dataclass(frozen=True)
class Metadata:
    """The identity a template carries in its hidden sheet and document properties."""

    format_version: str
    cycle: str
    department: str
    spec_name: str
    spec_version: str
    fingerprint: str
    generated_at: str
    signature: str = ""
    kind: str = "plan"
    period: str = ""  # check-ins: the period reported on (signed when set)
    # format 2: a fingerprint of the spec's content (Spec.fingerprint), signed when set; format 1 has none
    spec_fingerprint: str = ""
    # a template prefilled with finance's decisions (generate --from MASTER): the read-only columns that
    # show them, as "<sheet key>:<header>|<header>...", signed when set; intake does not read them as plan values
    decision_columns: str = ""
    # with decision_columns: what those columns showed, row by row (compact hashes, intake/decision_cells.py),
    # signed when set, so a value typed into them is noticed (decision-column-edited) rather than ignored
    decision_values: str = ""
    # format 3 (the cascade, issue 20): the unit's level in the org tree (1 reports to the company), and for a
    # unit aligned to its parent's plan, the parent's code and a fingerprint of the plan its template offered
    # (parent_plan.plan_fingerprint), so reconcile notices a parent plan changed since; signed when set
    level: str = ""
    parent: str = ""
    parent_plan: str = ""

    FIELDS = (
        "format_version",
        "kind",
        "cycle",
        "department",
        "spec_name",
        "spec_version",
        "fingerprint",
        "generated_at",
    )
    OPTIONAL = (
        "period",
        "spec_fingerprint",
        "decision_columns",
        "decision_values",
        "level",
        "parent",
        "parent_plan",
    )  # signed and stored only when set, so format 1 still verifies

    def signed_text(self) -> str:
        return "|".join(str(getattr(self, f)) for f in self.FIELDS) + "".join(
            f"|{f}={getattr(self, f)}" for f in self.OPTIONAL if getattr(self, f)
        )

    def as_pairs(self) -> list[tuple[str, str]]:
        optional = tuple(f for f in self.OPTIONAL if getattr(self, f))
        return [(f, str(getattr(self, f))) for f in (*self.FIELDS, *optional, "signature")]

    def property_pairs(self) -> list[tuple[str, str]]:
        """:meth:`as_pairs` for the document properties, whose text values Excel limits to 255 characters:
        a longer value is split into ``name``, ``name~2``, ``name~3``... (joined again by :meth:`from_mapping`)."""
        pairs = []
        for name, value in self.as_pairs():
            for n, start in enumerate(range(0, max(len(value), 1), PROPERTY_CHARS), 1):
                pairs.append((name if n == 1 else f"{name}~{n}", value[start : start + PROPERTY_CHARS]))
        return pairs

    def display_headers(self, sheet_key: str) -> tuple[str, ...]:
        """The headers of the read-only decision columns shown on sheet ``sheet_key`` (``decision_columns``)."""
        sheet, _, headers = self.decision_columns.partition(":")
        return tuple(h for h in headers.split("|") if h) if sheet == sheet_key else ()

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Metadata | None:
        try:
            values = {f: str(data[f]).strip() for f in cls.FIELDS if f != "kind"}
        except KeyError:
            return None
        return cls(
            **values,
            kind=str(data.get("kind") or "plan"),
            signature=str(data.get("signature") or ""),
            **{f: _joined(data, f) for f in cls.OPTIONAL},
        )


@dataclass(frozen=True)
class Origin:
    """The message a workbook came in: for newest-wins (its date), the sender check and replies.

    It travels with the input (``inbox.sources.Input``) and with what was read from it (``Return.origin``),
    never in a table on the side: a process pool, or two reconciles in one process, each see their own.
    """

    source: str  # where in the mail it was: "inbox.mbox › message 3 › FY2027_MKT.xlsx"
    sender: str = ""  # the author's address (for a forwarded message, the original sender)
    sender_name: str = ""
    date: str = ""  # ISO UTC
    subject: str = ""
    message_id: str = ""
    forwarded_by: str = ""  # who passed the author's message on


@dataclass(frozen=True)
class Decision:
    """Finance's decision on one initiative, as typed in a master's review columns (spec ``review:``).

    It belongs to the initiative by (department, initiative id), casefolded, never by row: a re-run of
    reconcile carries it to wherever the initiative's row now is. ``reviewed`` keeps what the initiative
    was when decided (title, objective, target, budget: by the initiative column's role), so a
    resubmission that changed it, or renumbered its rows, is noticed rather than silently approved.
    """

    department: str
    initiative_id: str
    values: Mapping[
        str, Any
    ]  # review column key -> value (decision label, approved amounts, reviewer, comment, extras)
    reviewed: Mapping[str, Any]  # snapshot: initiative column role -> value when decided (title, objective_ref, ...)
    meaning: str = ""  # approve / approve_changed / revise / reject ("" when no decision label, or an unknown one)
    where: str = ""  # "Initiatives!R12" (or the orphans sheet) in the master it was read from or is written to

    @property
    def key(self) -> tuple[str, str]:
        """What a decision is matched by: (department, initiative id), casefolded."""
        return (self.department.strip().casefold(), self.initiative_id.strip().casefold())
