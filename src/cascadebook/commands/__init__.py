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


SPEC_HELP = ("Template spec: a bundled name or a YAML file [default: the strategy's `spec:` field, else "
             "department.yaml beside the strategy, else the bundled department spec].")


def resolve_spec_or_exit(spec_path: str | None, strategy=None):
    """The department template spec for a command (spec.resolve_spec); a spec that cannot be used is a
    one-line usage error."""
    from ..spec import SpecError, resolve_spec

    try:
        return resolve_spec(spec_path, strategy)
    except SpecError as exc:
        raise click.UsageError(str(exc)) from None
