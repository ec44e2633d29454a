"""Feature commands beyond the core round trip (send, collect, checkin, diff, ...).

Each module here defines click commands and lists them in ``COMMANDS``; ``cli.py`` registers
them. Keep imports inside the command functions so ``cascadebook --help`` stays fast.
"""

from __future__ import annotations

import click


def load_strategy_or_exit(strategy_path: str):
    """Load the strategy for a command: print every problem (where, severity, code); exit 2 on errors."""
    from ..findings import Severity
    from ..strategy import read_strategy

    strategy, findings = read_strategy(strategy_path)
    for f in findings:
        click.echo(f"{f.where}: {f.severity.value}: {f.message} [{f.code}]", err=True)
    if strategy is None or any(f.severity is Severity.ERROR for f in findings):
        raise click.exceptions.Exit(2)
    return strategy
