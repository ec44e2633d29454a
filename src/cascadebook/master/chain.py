"""The cascade's tree of initiatives as the master's views walk it (issue 20): each corporate objective's
chain tops (initiatives aligned straight to it), then, depth first, the initiatives aligned to each, with
the share of the child that serves that parent and the path back up to the objective.

The Goal Hierarchy and the Cascade sheet both walk it, so both show one order: objectives in the
strategy's order, each level's initiatives in the reconcile order (unit, then id). A child split over two
parents is met under each (with each link's weight), as an initiative split over objectives is today.
Pure: records and links in, rows of the walk out.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from cascadebook.consolidate.cascade import Cascade
from cascadebook.consolidate.reconcile import Reconciliation
from cascadebook.model import Record
from cascadebook.parent_plan import Key, key_of

PATH_SEPARATOR = " › "
MAX_OUTLINE = 7  # Excel's row outline has 7 levels


@dataclass(frozen=True)
class Step:
    """One initiative met on the walk: ``depth`` 1 for a chain top, ``weight`` its share serving the row
    above (of the objective, for a top), ``path`` the ids from the objective down to its parent."""

    record: Record
    depth: int
    weight: float
    path: tuple[str, ...]

    @property
    def traces_to(self) -> str:
        return PATH_SEPARATOR.join(self.path)


class ChainWalk:
    """The objective -> initiative -> child initiative tree of a reconciled cascade."""

    def __init__(self, result: Reconciliation, cascade: Cascade):
        self.chains = cascade.chains
        self.tops: dict[str, list[tuple[Record, float]]] = {}  # objective id -> chain tops, direct weight
        for a in result.allocations:
            record = a.record
            key = key_of(record.department, record.id)
            weight = a.weight if key not in self.chains.cascaded else self._direct(key, a.objective_id)
            if weight:
                self.tops.setdefault(a.objective_id, []).append((record, weight))
        self.visited: set[Key] = set()

    def _direct(self, key: Key, objective_id: str) -> float:
        """The share of a cascaded initiative that names ``objective_id`` itself (not through a parent)."""
        through = sum(
            link.weight * w
            for link in self.chains.parents_of(*key)
            for oid, w in self.chains.objectives.get(key_of(link.parent_department, link.parent_id), ())
            if oid == objective_id
        )
        total = sum(w for oid, w in self.chains.objectives.get(key, ()) if oid == objective_id)
        return total - through if total - through > 1e-9 else 0.0

    def under(self, objective_id: str) -> Iterator[Step]:
        """The objective's chain tops and, under each, the initiatives aligned to it, any depth."""
        stack = [Step(r, 1, w, (objective_id,)) for r, w in reversed(self.tops.get(objective_id, []))]
        while stack:  # not recursive: a long chain is still walked
            step = stack.pop()
            key = key_of(step.record.department, step.record.id)
            self.visited.add(key)
            yield step
            path = (*step.path, step.record.id)
            children = self.chains.children_of(step.record.department, step.record.id)
            for link in reversed(children):
                if step.depth > 64:  # a guard only: the org tree has no cycles (org.py)
                    break
                stack.append(Step(link.where, step.depth + 1, link.weight, path))

    def missed(self, objective_id: str, records: list[Record]) -> list[Record]:
        """Of ``records`` allocated to ``objective_id``, those the walk did not meet (none, unless a chain
        is broken somewhere): listed flat at the end of the objective, so nothing is lost."""
        return [r for r in records if key_of(r.department, r.id) not in self.visited]
