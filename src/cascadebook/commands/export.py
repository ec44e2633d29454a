"""`cascadebook export`: a master as stable YAML and CSV, for git."""

from __future__ import annotations

import click


@click.command("export")
@click.argument("master", type=click.Path(exists=True, dir_okay=False))
@click.option("-o", "--outdir", required=True, type=click.Path(file_okay=False), help="Folder for the export.")
@click.option(
    "--spec",
    "spec_path",
    default=None,
    help="Template spec: a bundled name or a YAML file [default: department.yaml beside MASTER, "
    "else the bundled department spec].",
)
@click.option(
    "-s",
    "--strategy",
    "strategy_path",
    default=None,
    type=click.Path(exists=True, dir_okay=False),
    help="The cycle's strategy (YAML or workbook): when its units report to units, hierarchy.yaml nests by its org tree.",
)
def export(master: str, outdir: str, spec_path: str | None, strategy_path: str | None) -> None:
    """Write the cycle in MASTER as sorted hierarchy.yaml plus one CSV per table, to keep in git and diff.

    generate --from, checkin and diff accept the export folder as well as the master workbook. With
    --strategy whose units report to other units, hierarchy.yaml lists each unit under its parent with
    its initiatives and KPIs (the objectives once, at the top).
    """
    from cascadebook.commands import UserError, check_outputs, load_strategy_or_exit, output_errors
    from cascadebook.cycle.export import export_master
    from cascadebook.master.read import MasterError
    from cascadebook.spec.schema import SpecError, resolve_spec

    check_outputs(folders=[outdir])
    strategy = load_strategy_or_exit(strategy_path) if strategy_path else None
    try:
        with output_errors():
            paths = export_master(master, outdir, resolve_spec(spec_path, master), strategy)
    except (MasterError, SpecError) as exc:
        raise UserError(str(exc)) from None
    for path in paths:
        click.echo(f"wrote {path}")


COMMANDS = [export]
