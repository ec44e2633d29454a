"""The command line: a thin click shell over the library (it parses, shows progress, prints)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from cascadebook import __version__
from cascadebook.commands import (
    JSON_BARE_HELP,
    SPEC_HELP,
    STDOUT,
    JsonCommand,
    UserError,
    check_json_output,
    check_outputs,
    emit_json,
    load_strategy_or_exit,
    output_errors,
    resolve_spec_or_exit,
)
from cascadebook.commands.portal import from_portal_options, with_portal_inputs

WORKFLOW = """Cascade a strategy into department workbooks and reconcile what comes back.

\b
  1. cascadebook init DIR                  a sample strategy to start from
  2. cascadebook generate STRATEGY -o OUT  one template per department
  3. e-mail the templates; departments fill the shaded cells and send them back
  4. cascadebook reconcile STRATEGY RETURNED... -o master.xlsx
     validates every workbook and writes the master goal hierarchy

Exit status of reconcile: 0 no errors, 1 errors found (the master is still written),
2 the invocation or the strategy cannot be used, or an output cannot be written (e.g. the
master is open in Excel: nothing is changed then).
"""


def _console():
    from rich.console import Console

    return Console(stderr=True, highlight=False)


@click.group(help=WORKFLOW)
@click.version_option(__version__, prog_name="cascadebook")
def cli() -> None:
    pass


@cli.command()
@click.argument("directory", type=click.Path(file_okay=False))
def init(directory: str) -> None:
    """Start a cycle in DIRECTORY: a sample strategy.yaml, the department template spec and the
    e-mail texts, all to edit. Commands given DIRECTORY/strategy.yaml use DIRECTORY/department.yaml
    (no --spec needed)."""
    from importlib import resources

    from cascadebook.atomic import all_or_nothing, write_text_atomic

    target = Path(directory)
    check_outputs(folders=[target])
    specs = resources.files("cascadebook.workbook_templates")
    written = []
    files = [
        ("strategy.yaml", "sample_strategy.yaml"),
        ("department.yaml", "department.yaml"),
        *[(n, n) for n in ("email_request.txt", "email_reminder.txt", "email_feedback.txt")],
    ]
    with output_errors(), all_or_nothing():  # the cycle's files appear together, or none
        for name, bundled in files:
            source = specs.joinpath(bundled)
            path = target / name
            if path.exists():
                click.echo(f"kept existing {path}")
                continue
            write_text_atomic(path, source.read_text(encoding="utf-8"))
            written.append(path)
    for path in written:
        click.echo(f"wrote {path}")
    click.echo(
        f"next: edit {target / 'strategy.yaml'}, then: cascadebook generate {target / 'strategy.yaml'} "
        f"-o {target / 'outbox'}"
    )


@cli.command()
@click.argument("strategy", type=click.Path(exists=True, dir_okay=False))
@click.option("-o", "--outbox", required=True, type=click.Path(file_okay=False), help="Folder for the templates.")
@click.option("--department", "departments", multiple=True, metavar="CODE", help="Only this department (repeatable).")
@click.option("--spec", "spec_path", default=None, help=SPEC_HELP)
@click.option(
    "--from",
    "from_master",
    type=click.Path(exists=True),
    metavar="MASTER",
    help="Next cycle: prefill each department's template with its initiatives and KPIs from MASTER "
    "(a master workbook or a `cascadebook export` folder).",
)
@click.option(
    "--cascade",
    is_flag=True,
    help="With --from: a template for each unit aligned to its parent's plan (aligns_to: parent) whose parent's "
    "plan is in MASTER, offering the parent's initiatives (less those finance rejected) to align to.",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
def generate(
    strategy: str,
    outbox: str,
    departments: tuple[str, ...],
    spec_path: str | None,
    from_master: str | None,
    cascade: bool = False,
    quiet: bool = False,
) -> None:
    """Write one template workbook per department of STRATEGY into OUTBOX.

    Templates are signed with the key in .cascadebook-key beside STRATEGY (created on first use;
    keep it, reconcile needs it to recognise the templates). With --from, last cycle's master
    prefills each template with the department's current initiatives and KPIs (ids kept), so the
    next planning round edits rather than retypes, and shows finance's decisions on them beside the
    rows (rejected ones struck through and locked, Revise ones amber with the comment).
    """
    from cascadebook.signing import load_key
    from cascadebook.spec.schema import SpecError
    from cascadebook.template.department import generate as generate_templates

    loaded = load_strategy_or_exit(strategy)
    spec = resolve_spec_or_exit(spec_path, loaded)
    check_outputs(folders=[outbox])
    if cascade:
        _generate_cascade(loaded, strategy, from_master, outbox, spec, departments, quiet)
        return
    try:
        from cascadebook.cycle.cascade_round import generate_from
        from cascadebook.master.read import MasterError

        with output_errors(), _progress_bar("writing templates", quiet) as progress:
            options = dict(spec=spec, departments=departments or None, key=load_key(strategy, create=True))
            if from_master:
                paths = generate_from(loaded, from_master, outbox, progress=progress, **options)
            else:
                paths = generate_templates(loaded, outbox, progress=progress, **options)
    except (KeyError, SpecError, MasterError) as exc:
        raise click.UsageError(str(exc).strip("'\"")) from None
    for path in paths:
        click.echo(f"wrote {path}")
    click.echo(f"{len(paths)} template(s) for {loaded.cycle}")


def _generate_cascade(loaded, strategy: str, master: str | None, outbox: str, spec, departments, quiet: bool) -> None:
    """``generate --from MASTER --cascade``: the cascade round's templates (cycle/cascade_round.py)."""
    from cascadebook.cycle.cascade_round import generate_cascade
    from cascadebook.master.read import MasterError
    from cascadebook.signing import load_key
    from cascadebook.spec.schema import SpecError

    if not master:
        raise click.UsageError("--cascade needs --from MASTER: the master holding the parents' plans")
    try:
        with output_errors(), _progress_bar("writing templates", quiet) as progress:
            done = generate_cascade(
                loaded,
                master,
                outbox,
                spec=spec,
                key=load_key(strategy, create=True),
                departments=departments or None,
                progress=progress,
            )
    except (KeyError, SpecError, MasterError) as exc:
        raise click.UsageError(str(exc).strip("'\"")) from None
    for path in done.written:
        click.echo(f"wrote {path}")
    for code, why in done.skipped:
        click.echo(f"no template for {code}: {why}")
    click.echo(f"{len(done.written)} cascade template(s) for {loaded.cycle}")


@cli.command(cls=JsonCommand)
@click.argument("strategy", type=click.Path(exists=True, dir_okay=False))
@click.argument("inputs", nargs=-1, type=click.Path(exists=True))
@from_portal_options
@click.option(
    "-o",
    "--master",
    required=True,
    type=click.Path(dir_okay=False),
    help="Master workbook to write (an Excel workbook: the name must end in .xlsx).",
)
@click.option(
    "--json",
    "json_path",
    is_flag=False,
    flag_value=STDOUT,
    default=None,
    metavar="FILE|-",
    help="Also write the findings as JSON to FILE (.json), or to standard output with - "
    "(everything else then goes to standard error). " + JSON_BARE_HELP,
)
@click.option("--spec", "spec_path", default=None, help=SPEC_HELP)
@click.option(
    "--review-from",
    "review_from",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    metavar="OLD_MASTER",
    help="Carry finance's decisions from OLD_MASTER [default: from MASTER, when it exists]; refused "
    "when MASTER holds decisions OLD_MASTER has not.",
)
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None, help="Parallel readers [default: cores].")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar or summary table (errors are still listed).")
@click.option("-v", "--verbose", is_flag=True, help="List the warnings too, not only the errors.")
def reconcile(
    strategy: str,
    inputs: tuple[str, ...],
    master: str,
    json_path: str | None,
    spec_path: str | None,
    review_from: str | None,
    jobs: int | None,
    quiet: bool,
    verbose: bool = False,
    from_portal: str | None = None,
    portal_database: str | None = None,
) -> None:
    """Read returned workbooks (files or folders) in INPUTS, validate them and write the MASTER workbook.

    Errors are listed one per line (file: Sheet!Cell: severity code: message), with -v the
    warnings too; all findings are in the master's Findings sheet. The master and the JSON report
    are checked before the workbooks are read and replaced together: if one cannot be written
    (a master open in Excel), neither is changed and the exit status is 2.

    Finance's decisions typed into an existing MASTER (or into --review-from OLD_MASTER) are carried
    to the same initiatives of the new one; the master replaced is kept as MASTER's name with
    .previous.xlsx. A master whose review columns were damaged is refused (exit status 2), unchanged,
    and so is --review-from OLD_MASTER when MASTER holds decisions OLD_MASTER has not.
    """
    from cascadebook.atomic import all_or_nothing, write_text_atomic
    from cascadebook.master.read import MasterError
    from cascadebook.pipeline import previous_decisions, previous_path, write_reviewed_master
    from cascadebook.pipeline import reconcile as run
    from cascadebook.signing import load_key

    loaded = load_strategy_or_exit(strategy)
    sources = with_portal_inputs(inputs, from_portal, portal_database)
    check_outputs([master], suffixes=(".xlsx",), what="master workbook")
    if Path(master).is_file():
        check_outputs([previous_path(master)], what="copy of the previous master")
    check_json_output(json_path)
    spec = resolve_spec_or_exit(spec_path, loaded)
    try:
        previous = previous_decisions(master, spec, review_from)  # before the returns: refuse early
    except MasterError as exc:
        raise UserError(str(exc)) from None
    console = _console()
    if quiet:
        result = run(loaded, sources, spec=spec, key=load_key(strategy), jobs=jobs)
    else:
        from rich.progress import Progress

        with Progress(console=console, transient=True) as bar:
            task = bar.add_task("reading workbooks", total=None)
            result = run(
                loaded,
                sources,
                spec=spec,
                key=load_key(strategy),
                jobs=jobs,
                progress=lambda done, total, name: bar.update(task, completed=done, total=total),
            )
    with output_errors(), all_or_nothing():  # the master and the report: both new, or both as they were
        write_reviewed_master(result, master, previous)
        if json_path and json_path != STDOUT:
            write_text_atomic(json_path, json.dumps(result.to_dict(), indent=2, default=str) + "\n")
    if json_path == STDOUT:
        emit_json(result.to_dict(), STDOUT)
    if not quiet:
        _print_summary(console, result)
    _print_findings(result, verbose)
    written = f" and {json_path}" if json_path and json_path != STDOUT else ""
    click.echo(f"wrote {master}{written}", err=json_path == STDOUT)
    sys.exit(result.exit_code)


def _print_findings(result, verbose: bool) -> None:
    """The errors (with -v the warnings too) one per line on standard error, as a linter prints them."""
    from cascadebook.findings import Severity, finding_lines

    severities = (Severity.ERROR, Severity.WARNING) if verbose else (Severity.ERROR,)
    for line in finding_lines(result.findings, severities):
        click.echo(line, err=True)


class _progress_bar:
    """A rich progress bar on standard error, or nothing with --quiet; yields the library's callback."""

    def __init__(self, what: str, quiet: bool) -> None:
        self.what, self.quiet, self.bar = what, quiet, None

    def __enter__(self):
        if self.quiet:
            return None
        from rich.progress import Progress

        self.bar = Progress(console=_console(), transient=True)
        self.bar.__enter__()
        task = self.bar.add_task(self.what, total=None)
        return lambda done, total, name: self.bar.update(task, completed=done, total=total)

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.__exit__(*exc)
        return False


def _print_summary(console, result) -> None:
    from rich.table import Table

    skipped = sum(1 for s in result.sources if s.status == "skipped")
    title = f"{result.strategy.cycle}: {len(result.sources) - skipped} workbook(s) read"
    if skipped:
        title += f", {skipped} other file(s) skipped"
    table = Table(title=title, title_justify="left")
    for column in ("Department", "Status", *[s.title for s in result.spec.sheets], "Errors", "Warnings"):
        table.add_column(column)
    for code, counts in result.department_counts().items():  # the numbers of the JSON report and the Summary
        rows = [str(counts[s.key]) for s in result.spec.sheets]
        status = "returned" if counts["status"] == "returned" else f"[yellow]{counts['status']}[/]"
        table.add_row(code, status, *rows, str(counts["error"]), str(counts["warning"]))
    console.print(table)
    c = result.counts
    console.print(f"{c['error']} error(s), {c['warning']} warning(s), {c['info']} info")


def _register_feature_commands() -> None:
    import importlib
    import pkgutil

    from cascadebook import commands

    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        for command in getattr(module, "COMMANDS", ()):
            cli.add_command(command)


_register_feature_commands()


def main() -> None:
    cli(prog_name="cascadebook")
