"""The quarterly rhythm: ``checkin`` (progress workbooks from the master) and ``diff`` (cycle over cycle)."""

from __future__ import annotations

import sys

import click

from cascadebook.commands import JsonCommand, json_option

CHECKIN_HELP = """Write one check-in workbook per department for PERIOD, from the MASTER workbook.

\b
  cascadebook checkin cycle/master.xlsx --strategy cycle/strategy.yaml --period Q2 -o cycle/checkins/Q2

Each workbook lists the department's initiatives and KPIs from the master (ids, titles, baselines
and targets locked) with inputs for the period's actual, a status, a confidence and a comment, and
shows earlier periods' actuals read-only. The STRATEGY gives the cycle, the departments, the
objectives and the signing key (.cascadebook-key beside it), as for generate. Departments with no
initiative or KPI in the master get no workbook.

Send them out, collect the answers, and reconcile them together with the plan returns and the
earlier check-ins: reconcile recognises check-ins by their metadata and adds a Progress sheet.

\b
  cascadebook reconcile cycle/strategy.yaml cycle/returned cycle/checkins -o cycle/master.xlsx
"""

DIFF_HELP = """Show what changed between OLD_MASTER and NEW_MASTER (e.g. last cycle's and this one's).

Initiatives and KPIs are matched by id: added, removed, retargeted (baseline, target, unit or due
period), re-owned (owner, team or department) and re-aligned (objective or initiative), the
objectives whose contributing departments changed, and finance's decisions that changed (decision,
approved amounts or comment; decided in one master only; orphaned decisions included). Ids carry over when the new cycle's templates
were made with `generate --from OLD_MASTER`.

With --strategy (the new cycle's) whose units report to other units, each change shows its unit's
level, and an initiative of a unit aligned to its parent's plan that now serves other parent
initiatives is re-parented (not re-aligned).

Prints tables; --json (or --json -) prints the diff as JSON instead, --json FILE writes it to
FILE; -o also writes it as a workbook (.xlsx). Exit status 0, or 2 when a master cannot be read
or an output cannot be written.
"""


@click.command(help=CHECKIN_HELP)
@click.argument("master", type=click.Path(exists=True))
@click.option(
    "-s",
    "--strategy",
    "strategy_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False),
    help="The cycle's strategy (YAML or workbook); its key signs the workbooks.",
)
@click.option("-p", "--period", required=True, help="The period to report on, one of the strategy's periods.")
@click.option("-o", "--outbox", required=True, type=click.Path(file_okay=False), help="Folder for the workbooks.")
@click.option("--department", "departments", multiple=True, metavar="CODE", help="Only this department (repeatable).")
@click.option(
    "--spec",
    "spec_path",
    default=None,
    help="Template spec the master was written with: a bundled name "
    "or a YAML file [default: the strategy's `spec:` field, else department.yaml beside the strategy, "
    "else the bundled department spec].",
)
def checkin(
    master: str, strategy_path: str, period: str, outbox: str, departments: tuple[str, ...], spec_path: str | None
) -> None:
    from cascadebook.commands import check_outputs, load_strategy_or_exit, output_errors, resolve_spec_or_exit
    from cascadebook.cycle.checkin import generate_checkins
    from cascadebook.cycle.export import read_master_or_export
    from cascadebook.master.read import MasterError
    from cascadebook.signing import load_key
    from cascadebook.spec.values import parse_value

    strategy = load_strategy_or_exit(strategy_path)
    spec = resolve_spec_or_exit(spec_path, strategy)
    parsed = parse_value(period, "period", periods=strategy.periods, cycle_year=strategy.cycle_year)
    if not parsed.ok:
        raise click.BadParameter(
            f"{period!r} is not a period of {strategy.cycle} ({', '.join(strategy.periods)})", param_hint="--period"
        )
    check_outputs(folders=[outbox])
    try:
        with output_errors():
            data = read_master_or_export(master, spec)
            paths = generate_checkins(
                strategy,
                data,
                outbox,
                parsed.value,
                departments=departments or None,
                key=load_key(strategy_path, create=True),
            )
    except MasterError as exc:
        raise click.UsageError(str(exc)) from None
    except KeyError as exc:
        raise click.UsageError(str(exc).strip("'\"")) from None
    for path in paths:
        click.echo(f"wrote {path}")
    planned = set(data.departments())
    idle = [
        d.code
        for d in strategy.departments
        if d.code not in planned and (not departments or d.code.casefold() in {c.casefold() for c in departments})
    ]
    if idle:
        click.echo(f"no initiatives in the master, so no check-in for: {', '.join(idle)}")
    click.echo(f"{len(paths)} check-in workbook(s) for {strategy.cycle} {parsed.value}")


@click.command(help=DIFF_HELP, cls=JsonCommand)
@click.argument("old_master", type=click.Path(exists=True))
@click.argument("new_master", type=click.Path(exists=True))
@json_option("the diff (for automation)")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    help="Also write the diff as a workbook (an Excel workbook: the name must end in .xlsx).",
)
@click.option(
    "--spec",
    "spec_path",
    default=None,
    help="Template spec the masters were written with: a bundled name or a YAML file [default: "
    "department.yaml beside NEW_MASTER, else the bundled department spec].",
)
@click.option(
    "-s",
    "--strategy",
    "strategy_path",
    default=None,
    type=click.Path(exists=True, dir_okay=False),
    help="The new cycle's strategy (YAML or workbook): its org tree gives each change's level and re-parented.",
)
def diff(
    old_master: str,
    new_master: str,
    json_out: str | None,
    output: str | None,
    spec_path: str | None,
    strategy_path: str | None,
) -> None:
    from rich.console import Console

    from cascadebook.atomic import all_or_nothing
    from cascadebook.commands import (
        STDOUT,
        check_json_output,
        check_outputs,
        emit_json,
        load_strategy_or_exit,
        output_errors,
    )
    from cascadebook.cycle.diff import diff_masters, print_diff, write_diff_workbook
    from cascadebook.cycle.export import read_master_or_export
    from cascadebook.master.read import MasterError
    from cascadebook.spec.schema import SpecError, resolve_spec

    check_outputs([output], suffixes=(".xlsx",), what="diff workbook")
    check_json_output(json_out)
    strategy = load_strategy_or_exit(strategy_path) if strategy_path else None
    try:
        spec = resolve_spec(spec_path, new_master)
        old, new = read_master_or_export(old_master, spec), read_master_or_export(new_master, spec)
        result = diff_masters(old, new, spec, strategy=strategy)
    except (MasterError, SpecError) as exc:
        raise click.UsageError(str(exc)) from None
    with output_errors(), all_or_nothing():  # the workbook and the JSON file: both new, or both as they were
        if output:
            write_diff_workbook(result, output, spec)
        if json_out and json_out != STDOUT:
            emit_json(result.to_dict(), json_out)
    if json_out == STDOUT:
        emit_json(result.to_dict(), STDOUT)
    else:
        print_diff(result, Console(file=sys.stdout, highlight=False, width=max(120, Console().width)), spec)
    for path in (output, json_out if json_out != STDOUT else None):
        if path:
            click.echo(f"wrote {path}", err=json_out == STDOUT)


COMMANDS = [checkin, diff]
