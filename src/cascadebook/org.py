"""The org tree: which unit reports to which, from each department's ``parent`` in the strategy.

The cascade (issue 20) runs along it: a division hands its plan down to its departments, a department
to its teams, and figures roll up the same way. Built once per strategy (``Strategy.org_tree``) and
never fails: a parent that is not a unit is the strategy's ``unknown-parent`` error; units whose parents
go round in a cycle (or a unit that names itself) are listed in ``cycles`` for a ``parent-cycle``
finding and are treated as reporting to the company, so no unit drops out of any view.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from cascadebook.model import Department


@dataclass(frozen=True)
class OrgTree:
    """Units by code, each one's parent and children, its level and its place in the tree's order.

    Codes are as the strategy spells them; lookups are case-insensitive as ``Strategy.department``.
    Level 1 reports to the company. ``order`` is depth-first, children sorted by code, which is the
    order every grouped view lists units in (a parent, then its descendants)."""

    units: dict[str, Department]  # casefolded code -> unit
    parents: dict[str, str]  # code -> parent code, for units that report to another unit (cycles cut)
    children: dict[str, tuple[str, ...]]  # code -> child codes sorted by code
    roots: tuple[str, ...]  # level-1 units, sorted by code
    cycles: tuple[tuple[str, ...], ...] = ()  # each cycle's codes, from its smallest code along the parents
    _levels: dict[str, int] = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, departments: Iterable[Department]) -> OrgTree:
        units: dict[str, Department] = {}
        for d in departments:
            units.setdefault(d.code.casefold(), d)  # a duplicate code is the strategy's duplicate-id
        proper = {k: d.code for k, d in units.items()}
        wanted = {
            k: proper[d.parent.strip().casefold()]
            for k, d in units.items()
            if d.parent and d.parent.strip() and d.parent.strip().casefold() in units
        }
        cycles = _cycles({k: v.casefold() for k, v in wanted.items()})
        cut = {k for cycle in cycles for k in cycle}
        parents = {proper[k]: v for k, v in wanted.items() if k not in cut}
        children: dict[str, list[str]] = {}
        for child, parent in parents.items():
            children.setdefault(parent, []).append(child)
        tree = cls(
            units=units,
            parents=parents,
            children={k: tuple(sorted(v)) for k, v in children.items()},
            roots=tuple(sorted(d.code for d in units.values() if d.code not in parents)),
            cycles=tuple(tuple(proper[k] for k in cycle) for cycle in cycles),
        )
        for code in tree.order():
            above = parents.get(code)
            tree._levels[code] = 1 if above is None else tree._levels[above] + 1
        return tree

    def unit(self, code: str) -> Department | None:
        return self.units.get(code.strip().casefold())

    def parent(self, code: str) -> str | None:
        return self.parents.get(self._code(code))

    def children_of(self, code: str) -> tuple[str, ...]:
        return self.children.get(self._code(code), ())

    def level(self, code: str) -> int:
        """1 for a unit that reports to the company, 2 for its children, and so on."""
        return self._levels[self._code(code)]

    def ancestors(self, code: str) -> tuple[str, ...]:
        """The path from the top: the level-1 unit first, the unit's parent last (empty at level 1)."""
        path: list[str] = []
        parent = self.parent(code)
        while parent is not None:
            path.append(parent)
            parent = self.parents.get(parent)
        return tuple(reversed(path))

    def descendants(self, code: str) -> tuple[str, ...]:
        """Every unit below ``code``, depth-first, children sorted by code."""
        return tuple(self._walk(self.children_of(code)))

    def order(self) -> tuple[str, ...]:
        """Every unit once, depth-first from the level-1 units, children sorted by code."""
        return tuple(self._walk(self.roots))

    @property
    def depth(self) -> int:
        """The deepest level (1 for a flat strategy, or none at all)."""
        return max(self._levels.values(), default=1)

    @property
    def nested(self) -> bool:
        """Whether any unit reports to another: the grouped views and roll-ups are written only then."""
        return bool(self.parents)

    def _walk(self, codes: Iterable[str]) -> Iterator[str]:
        stack = list(reversed(tuple(codes)))
        while stack:  # not recursive: a chain of thousands of levels is still walked
            code = stack.pop()
            yield code
            stack.extend(reversed(self.children.get(code, ())))

    def _code(self, code: str) -> str:
        unit = self.unit(code)
        if unit is None:
            raise KeyError(code)
        return unit.code


def _cycles(parents: dict[str, str]) -> list[tuple[str, ...]]:
    """The cycles among ``parents`` (casefolded code -> casefolded parent), each once, from its smallest
    code along the parents; a unit that names itself is a cycle of one."""
    found: list[tuple[str, ...]] = []
    done: set[str] = set()
    for start in sorted(parents):
        path: list[str] = []
        on_path: dict[str, int] = {}
        code: str | None = start
        while code is not None and code not in done and code not in on_path:
            on_path[code] = len(path)
            path.append(code)
            code = parents.get(code)
        if code is not None and code in on_path:
            cycle = path[on_path[code] :]
            first = cycle.index(min(cycle))
            found.append(tuple(cycle[first:] + cycle[:first]))
        done.update(path)
    return found
