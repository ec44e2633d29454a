"""The sample strategy with an org tree of one's own: the cascade tests' one way to write it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from conftest import SAMPLE_STRATEGY


def write_org_strategy(
    folder: Path, units: Iterable[tuple], extra: Mapping[str, Mapping[str, Any]] | None = None
) -> Path:
    """``folder/strategy.yaml``: the sample's objectives with ``units`` as its departments, each
    ``(code, name, parent)`` or ``(code, name, parent, aligns_to)`` (``None`` parent: reports to the
    company; aligns_to left out: the corporate objectives); ``extra``: more fields by unit code."""
    data = yaml.safe_load(SAMPLE_STRATEGY.read_text(encoding="utf-8"))
    data["departments"] = []
    for code, name, parent, *aligns in units:
        unit = {"code": code, "name": name, "head": f"Head of {name}", "email": f"{code.lower()}@northwind.example"}
        if parent:
            unit["parent"] = parent
        if aligns and aligns[0] and aligns[0] != "objectives":
            unit["aligns_to"] = aligns[0]
        unit.update((extra or {}).get(code, {}))
        data["departments"].append(unit)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "strategy.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path
