"""cascadebook: strategy -> department Excel templates -> reconciled master goal hierarchy.

The public API is plain Python; the CLI is a thin shell over it::

    strategy = load_strategy("strategy.yaml")
    generate(strategy, "outbox", key=load_key("strategy.yaml", create=True))
    result = reconcile(strategy, ["returned/"], key=load_key("strategy.yaml"))
    write_master(result, "master.xlsx")
"""

from __future__ import annotations

from cascadebook.consolidate.reconcile import Reconciliation
from cascadebook.findings import CATALOGUE, Finding, Severity
from cascadebook.intake.reader import read_return
from cascadebook.master.write import write_master
from cascadebook.model import Department, Metadata, Objective, Record, Strategy
from cascadebook.pipeline import reconcile
from cascadebook.signing import load_key
from cascadebook.spec.schema import Spec, load_spec
from cascadebook.strategy import StrategyError, load_strategy, read_strategy
from cascadebook.template.department import generate, write_template

__version__ = "0.1.0"
__all__ = [
    "CATALOGUE",
    "Department",
    "Finding",
    "Metadata",
    "Objective",
    "Reconciliation",
    "Record",
    "Severity",
    "Spec",
    "Strategy",
    "StrategyError",
    "generate",
    "load_key",
    "load_spec",
    "load_strategy",
    "read_return",
    "read_strategy",
    "reconcile",
    "write_master",
    "write_template",
]
