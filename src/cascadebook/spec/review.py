"""The spec's ``review:`` section: the columns that exist only in the master, where finance decides.

They sit on the master's Initiatives table after the plan's columns (master/tables.py), are read back
by master/decisions_read.py and carried to the next master by master/review.py. Templates never show
them, so they are not in ``Spec.fingerprint()``. A spec without the section gets the bundled spec's.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache
from importlib import resources

from cascadebook.spec import roles as _roles
from cascadebook.spec.columns import (
    BUNDLED_SPEC,
    Column,
    SpecError,
    _check_keys,
    _list,
    did_you_mean,
    normalise_header,
    parse_column,
    read_yaml,
)

REVIEW_KEYS = ("decisions", "columns")
REVIEW_COLUMN_KEYS = ("key", "header", "type", "width", "choices", "role", "records")


@dataclass(frozen=True)
class ReviewSpec:
    """The spec's ``review:`` section: the columns that exist only in the master, on its Initiatives
    table, where finance decides on each initiative. ``decisions`` maps the Decision dropdown's labels
    (the organisation's words) to the meanings the code knows (roles.DECISION_MEANINGS).

    Three kinds of column: inputs finance types (the decision, approved amounts, reviewer, comment, and
    any column an organisation adds without a role: carried over by key); snapshots (``records:``
    a role of the initiatives sheet), what the initiative was when decided, written by reconcile; and
    the check (role ``review_check``), also written by reconcile. Code finds them by role, never by key.
    """

    columns: tuple[Column, ...] = ()
    decisions: tuple[tuple[str, str], ...] = ()  # (label, meaning), in the dropdown's order

    def by_role(self, role: str) -> Column | None:
        """The review column with ``role`` (decision, approved_budget, ...), or None."""
        return next((c for c in self.columns if c.role == role), None)

    def key_of(self, role: str) -> str:
        col = self.by_role(role)
        return col.key if col is not None else ""

    def header_of(self, role: str) -> str:
        col = self.by_role(role)
        return col.header if col is not None else ""

    @property
    def enabled(self) -> bool:
        """Whether the master has review columns (a spec made in code without a review section has none)."""
        return self.by_role(_roles.DECISION) is not None

    @property
    def inputs(self) -> tuple[Column, ...]:
        """The columns finance types (unlocked in the master): all but the snapshots and the check."""
        return tuple(c for c in self.columns if not c.records and c.role != _roles.REVIEW_CHECK)

    @property
    def snapshots(self) -> tuple[Column, ...]:
        """The columns that keep what the initiative was when decided (``records:`` its column role)."""
        return tuple(c for c in self.columns if c.records)

    @property
    def check(self) -> Column | None:
        """The column reconcile writes "changed since reviewed: ..." into."""
        return self.by_role(_roles.REVIEW_CHECK)

    @property
    def labels(self) -> tuple[str, ...]:
        """The Decision dropdown's labels."""
        return tuple(label for label, _ in self.decisions)

    def meaning(self, label: object) -> str:
        """What a typed decision label means (approve, approve_changed, revise, reject); "" for a blank or
        a label the spec does not have. Case and spaces aside, as headers are matched."""
        return self._meanings.get(normalise_header(label), "") if label not in (None, "") else ""

    def label_of(self, meaning: str) -> str:
        """The first label with ``meaning`` ("" when the spec has none)."""
        return next((label for label, m in self.decisions if m == meaning), "")

    @cached_property
    def _meanings(self) -> dict[str, str]:
        return {normalise_header(label): meaning for label, meaning in self.decisions}


def parse_review(raw: object, where: str) -> ReviewSpec:
    """The ``review:`` section (see :class:`ReviewSpec`), checked against the role catalogue, or a SpecError."""
    _check_keys(raw, REVIEW_KEYS, where)
    assert isinstance(raw, dict)
    decisions = raw.get("decisions")
    if not isinstance(decisions, dict) or not decisions:
        raise SpecError(
            f"{where}.decisions: expected a mapping of decision label to meaning "
            f"({', '.join(_roles.DECISION_MEANINGS)}), e.g. Approved: approve"
        )
    pairs: list[tuple[str, str]] = []
    seen: dict[str, str] = {}
    for label, meaning in decisions.items():
        label, meaning = str(label).strip(), str(meaning or "").strip()
        if meaning not in _roles.DECISION_MEANINGS:
            raise SpecError(
                f"{where}.decisions.{label}: unknown meaning {meaning!r}{did_you_mean(meaning, _roles.DECISION_MEANINGS)} "
                f"(meanings: {', '.join(_roles.DECISION_MEANINGS)})"
            )
        if not label or normalise_header(label) in seen:
            raise SpecError(f"{where}.decisions: label {label!r} is empty or given twice (case aside)")
        seen[normalise_header(label)] = label
        pairs.append((label, meaning))
    labels = tuple(label for label, _ in pairs)
    columns = []
    for j, item in enumerate(_list(raw.get("columns"), f"{where}.columns")):
        at = f"{where}.columns[{j}]"
        if isinstance(item, dict) and item.get("role") == _roles.DECISION:
            if "choices" in item and tuple(str(c) for c in item["choices"] or ()) != labels:
                raise SpecError(
                    f"{at}: the decision column's choices are the labels of review.decisions; remove `choices:`"
                )
            item = {**item, "choices": list(labels)}
        columns.append(parse_column(item, at, REVIEW_COLUMN_KEYS))
    review = ReviewSpec(tuple(columns), tuple(pairs))
    _check_review_columns(review, where)
    return review


def _check_review_columns(review: ReviewSpec, where: str) -> None:
    """Review columns: keys and headers once each, roles of the review catalogue, snapshots of initiative roles."""
    keys: dict[str, int] = {}
    headers: dict[str, int] = {}
    roles: dict[str, str] = {}
    for j, col in enumerate(review.columns):
        at = f"{where}.columns[{j}]"
        for name, value, found in (("key", col.key, keys), ("header", normalise_header(col.header), headers)):
            if value in found:
                raise SpecError(f"{at}: {name} {value!r} is also that of columns[{found[value]}]")
            found[value] = j
        if col.role and col.records:
            raise SpecError(f"{at}: column {col.key!r} has a role and `records:`; a snapshot column has no role")
        if col.records:
            role = _roles.ROLES.get(col.records)
            if role is None or _roles.INITIATIVES not in role.sheets:
                known = [r.name for r in _roles.ROLES.values() if _roles.INITIATIVES in r.sheets]
                raise SpecError(
                    f"{at}: column {col.key!r} records {col.records!r}, which is not a role of the initiatives "
                    f"sheet{did_you_mean(col.records, known)}"
                )
        if not col.role:
            continue
        role = _roles.ROLES.get(col.role)
        if role is None or _roles.REVIEW not in role.sheets:
            known = _roles.required(_roles.REVIEW) + [
                r.name for r in _roles.ROLES.values() if _roles.REVIEW in r.sheets and not r.required_on(_roles.REVIEW)
            ]
            raise SpecError(
                f"{at}: column {col.key!r} has role {col.role!r}, not a role of the review columns"
                f"{did_you_mean(col.role, known)} (review roles: {', '.join(known)})"
            )
        if col.role in roles:
            raise SpecError(f"{at}: role {col.role!r} is on columns {roles[col.role]!r} and {col.key!r}")
        roles[col.role] = col.key
        if col.type not in role.types:
            raise SpecError(
                f"{at}: column {col.key!r} has role {col.role!r}, which needs type "
                f"{' or '.join(sorted(role.types))}; found {col.type!r}"
            )
    for name in _roles.required(_roles.REVIEW):
        if name not in roles:
            raise SpecError(f"{where}.columns: role {name!r} is required: give one review column `role: {name}`")


@lru_cache(maxsize=1)
def bundled_review() -> ReviewSpec:
    """The bundled department spec's review columns: a spec without ``review:`` gets these."""
    text = resources.files("cascadebook.workbook_templates").joinpath(f"{BUNDLED_SPEC}.yaml").read_text("utf-8")
    data = read_yaml(f"{BUNDLED_SPEC}.yaml", text)
    assert isinstance(data, dict) and "review" in data, "the bundled spec has a review: section"
    return parse_review(data["review"], f"{BUNDLED_SPEC}.yaml: review")


def approved_amount(meaning: str, typed: object, requested: object) -> float | None:
    """What a decision approves of one amount (budget or headcount), the one rule the master's live
    formulas (master/review_figures.py), ``cascadebook decisions`` and the next round's templates share:

    * approve, approve_changed: the typed amount when it is a number; blank, the request (None when
      nothing was requested); anything else typed ("n/a", "50k", text "50000") approves 0, as Excel's
      ``ISNUMBER`` test in the formulas takes it (``decisions`` reports it as ``approved-not-a-number``);
    * reject: 0;
    * revise, no decision or a label the spec does not know: None, nothing approved yet.
    """
    if meaning == _roles.REJECT:
        return 0.0
    if meaning not in (_roles.APPROVE, _roles.APPROVE_CHANGED):
        return None
    if typed is None or typed == "":
        return _as_number(requested)
    return _as_number(typed) or 0.0


def _as_number(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
