"""The command line: a thin click shell over the library (it parses, shows progress, prints)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from . import __version__
from .commands import SPEC_HELP, load_strategy_or_exit, resolve_spec_or_exit

WORKFLOW = """Cascade a strategy into department workbooks and reconcile what comes back.

\b
  1. cascadebook init DIR                  a sample strategy to start from
  2. cascadebook generate STRATEGY -o OUT  one template per department
  3. e-mail the templates; departments fill the shaded cells and send them back
  4. cascadebook reconcile STRATEGY RETURNED... -o master.xlsx
     validates every workbook and writes the master goal hierarchy

Exit status of reconcile: 0 no errors, 1 errors found (the master is still written),
2 the invocation or the strategy cannot be used.
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

    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    specs = resources.files("cascadebook.workbook_templates")
    written = []
    files = [("strategy.yaml", "sample_strategy.yaml"), ("department.yaml", "department.yaml"),
             *[(n, n) for n in ("email_request.txt", "email_reminder.txt", "email_feedback.txt")]]
    for name, bundled in files:
        source = specs.joinpath(bundled)
        path = target / name
        if path.exists():
            click.echo(f"kept existing {path}")
            continue
        path.write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
        written.append(path)
    for path in written:
        click.echo(f"wrote {path}")
    click.echo(f"next: edit {target / 'strategy.yaml'}, then: cascadebook generate {target / 'strategy.yaml'} "
               f"-o {target / 'outbox'}")


@cli.command()
@click.argument("strategy", type=click.Path(exists=True, dir_okay=False))
@click.option("-o", "--outbox", required=True, type=click.Path(file_okay=False), help="Folder for the templates.")
@click.option("--department", "departments", multiple=True, metavar="CODE",
              help="Only this department (repeatable).")
@click.option("--spec", "spec_path", default=None, help=SPEC_HELP)
@click.option("--from", "from_master", type=click.Path(exists=True), metavar="MASTER",
              help="Next cycle: prefill each department's template with its initiatives and KPIs from MASTER "
                   "(a master workbook or a `cascadebook export` folder).")
def generate(strategy: str, outbox: str, departments: tuple[str, ...], spec_path: str | None,
             from_master: str | None) -> None:
    """Write one template workbook per department of STRATEGY into OUTBOX.

    Templates are signed with the key in .cascadebook-key beside STRATEGY (created on first use;
    keep it, reconcile needs it to recognise the templates). With --from, last cycle's master
    prefills each template with the department's current initiatives and KPIs (ids kept), so the
    next planning round edits rather than retypes.
    """
    from .signing import load_key
    from .spec import SpecError
    from .templates import generate as generate_templates

    loaded = load_strategy_or_exit(strategy)
    spec = resolve_spec_or_exit(spec_path, loaded)
    try:
        from .master_read import MasterError, prefill_rows, read_master

        prefill = prefill_rows(read_master(from_master, spec), spec) if from_master else None
        paths = generate_templates(loaded, outbox, spec=spec, departments=departments or None,
                                   key=load_key(strategy, create=True), prefill=prefill)
    except (KeyError, SpecError, MasterError) as exc:
        raise click.UsageError(str(exc).strip("'\"")) from None
    for path in paths:
        click.echo(f"wrote {path}")
    click.echo(f"{len(paths)} template(s) for {loaded.cycle}")


@cli.command()
@click.argument("strategy", type=click.Path(exists=True, dir_okay=False))
@click.argument("inputs", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("-o", "--master", required=True, type=click.Path(dir_okay=False), help="Master workbook to write.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False), help="Also write the findings as JSON.")
@click.option("--spec", "spec_path", default=None, help=SPEC_HELP)
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None, help="Parallel readers [default: cores].")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar or summary table.")
def reconcile(strategy: str, inputs: tuple[str, ...], master: str, json_path: str | None, spec_path: str | None,
              jobs: int | None, quiet: bool) -> None:
    """Read returned workbooks (files or folders) in INPUTS, validate them and write the MASTER workbook."""
    from .atomic import write_text_atomic
    from .master import write_master
    from .reconcile import reconcile as run
    from .signing import load_key

    loaded = load_strategy_or_exit(strategy)
    spec = resolve_spec_or_exit(spec_path, loaded)
    console = _console()
    if quiet:
        result = run(loaded, inputs, spec=spec, key=load_key(strategy), jobs=jobs)
    else:
        from rich.progress import Progress

        with Progress(console=console, transient=True) as bar:
            task = bar.add_task("reading workbooks", total=None)
            result = run(loaded, inputs, spec=spec, key=load_key(strategy), jobs=jobs,
                         progress=lambda done, total, name: bar.update(task, completed=done, total=total))
    write_master(result, master)
    if json_path:
        write_text_atomic(json_path, json.dumps(result.to_dict(), indent=2, default=str) + "\n")
    if not quiet:
        _print_summary(console, result)
    click.echo(f"wrote {master}" + (f" and {json_path}" if json_path else ""))
    sys.exit(result.exit_code)


def _print_summary(console, result) -> None:
    from rich.table import Table

    table = Table(title=f"{result.strategy.cycle}: {len(result.sources)} file(s) read", title_justify="left")
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

    from . import commands

    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        for command in getattr(module, "COMMANDS", ()):
            cli.add_command(command)


_register_feature_commands()


def main() -> None:
    cli(prog_name="cascadebook")
