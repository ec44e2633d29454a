"""Feature commands beyond the core round trip (send, collect, checkin, diff, ...).

Each module here defines click commands and lists them in ``COMMANDS``; ``cli.py`` registers
them. Keep imports inside the command functions so ``cascadebook --help`` stays fast.
"""

from __future__ import annotations

import click


def load_strategy_or_exit(strategy_path: str):
    """Load the strategy for a command: print every problem (where, severity, code); exit 2 on errors."""
    from cascadebook.findings import Severity
    from cascadebook.strategy import read_strategy

    strategy, findings = read_strategy(strategy_path)
    for f in findings:
        click.echo(f"{f.where}: {f.severity.value}: {f.message} [{f.code}]", err=True)
    if strategy is None or any(f.severity is Severity.ERROR for f in findings):
        raise click.exceptions.Exit(2)
    return strategy


SPEC_HELP = (
    "Template spec: a bundled name or a YAML file [default: the strategy's `spec:` field, else "
    "department.yaml beside the strategy, else the bundled department spec]."
)


def resolve_spec_or_exit(spec_path: str | None, strategy=None):
    """The department template spec for a command (spec.resolve_spec); a spec that cannot be used is a
    one-line usage error."""
    from cascadebook.spec.schema import SpecError, resolve_spec

    try:
        return resolve_spec(spec_path, strategy)
    except SpecError as exc:
        raise click.UsageError(str(exc)) from None


class UserError(click.ClickException):
    """Something the user can fix (an output that cannot be written, a file that is not a master):
    one line saying what, where and what to do; exit status 2, no usage text."""

    exit_code = 2


class output_errors:
    """Turn the library's ``OutputError`` into a one-line error with exit status 2 (never a traceback)."""

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        from cascadebook.atomic import OutputError

        if isinstance(exc, OutputError):
            raise UserError(str(exc)) from None
        return False


def check_outputs(files=(), *, folders=(), suffixes=None, what: str = "output") -> None:
    """Check outputs before the work: each file can be written (and ends in one of ``suffixes``), each
    folder exists or can be made; exit 2 with one line otherwise. ``None`` and ``"-"`` are skipped."""
    from cascadebook.atomic import check_folder, check_writable

    with output_errors():
        for folder in folders:
            if folder:
                check_folder(folder)
        check_writable([f for f in files if f and f != STDOUT], suffixes=suffixes, what=what)


STDOUT = "-"


JSON_BARE_HELP = (
    "A bare --json (followed by anything but - or a name ending in .json) means standard output "
    "and leaves what follows to the arguments: `--json OLD NEW` works."
)


def bare_json_args(args: list[str]) -> list[str]:
    """``--json X`` where X is neither ``-`` nor a name ending in ``.json`` (nor an option) is a bare
    ``--json`` (standard output): X is left to the positional arguments instead of being taken as
    the report's file (``diff --json old.xlsx new.xlsx``). ``--json=FILE`` is never rewritten."""
    out = list(args)
    for i, arg in enumerate(out[:-1]):
        if arg == "--":
            break
        if arg == "--json":
            nxt = out[i + 1]
            if nxt != STDOUT and not nxt.startswith("-") and not nxt.lower().endswith(".json"):
                out[i] = f"--json={STDOUT}"
    return out


class JsonCommand(click.Command):
    """A command with an optional-value ``--json``: see ``bare_json_args``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, bare_json_args(args))


def json_option(what: str):
    """``--json FILE.json`` writes to FILE, ``--json -`` or a bare ``--json`` to standard output (the
    command must be a ``JsonCommand`` so a bare ``--json`` before the arguments leaves them alone)."""
    return click.option(
        "--json",
        "json_out",
        is_flag=False,
        flag_value=STDOUT,
        default=None,
        metavar="FILE|-",
        help=f"Write {what} as JSON to FILE (.json), or to standard output (instead of the table) "
        f"with - or a bare --json. {JSON_BARE_HELP}",
    )


def check_json_output(json_out: str | None) -> None:
    check_outputs([json_out], suffixes=(".json",), what="JSON report")


def emit_json(data, json_out: str) -> None:
    """The JSON report to standard output (``-``) or, atomically, to a file."""
    import json

    text = json.dumps(data, indent=2, default=str) + "\n"
    if json_out == STDOUT:
        click.echo(text, nl=False)
        return
    from cascadebook.atomic import write_text_atomic

    with output_errors():
        write_text_atomic(json_out, text)
