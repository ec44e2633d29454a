"""``serve`` (the intake portal) and ``portal-links``; ``--from-portal`` for reconcile and status."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import click

from cascadebook.commands import UserError, load_strategy_or_exit, resolve_spec_or_exit

STRATEGY_NAMES = ("strategy.yaml", "strategy.yml", "strategy.xlsx")
DATABASE_HELP = (
    "The portal's database: a SQLAlchemy URL such as postgresql://user:pass@host/db "
    "[default: CYCLE_DIR/portal/portal.sqlite3; env: CASCADEBOOK_PORTAL_DATABASE]."
)


def strategy_in(cycle_dir: str | Path) -> Path:
    """CYCLE_DIR's strategy (strategy.yaml, .yml or .xlsx); a one-line error when there is none."""
    for name in STRATEGY_NAMES:
        path = Path(cycle_dir) / name
        if path.is_file():
            return path
    raise UserError(f"{cycle_dir} holds no strategy ({', '.join(STRATEGY_NAMES)})")


def open_portal(cycle_dir: str, database: str | None, public_url: str = "", **limits):
    """The Portal of CYCLE_DIR: its strategy, spec, key (which must exist: generate made it) and store."""
    from sqlalchemy.exc import SQLAlchemyError

    from cascadebook.portal.app import Portal
    from cascadebook.portal.store import Store
    from cascadebook.signing import key_path_for, load_key

    strategy_path = strategy_in(cycle_dir)
    strategy = load_strategy_or_exit(str(strategy_path))
    spec = resolve_spec_or_exit(None, strategy)
    key = load_key(strategy_path)
    if key is None:
        raise UserError(
            f"no cycle key at {key_path_for(strategy_path)}: run `cascadebook generate {strategy_path} -o OUTBOX` first"
        )
    try:
        store = Store(cycle_dir, database)
    except (SQLAlchemyError, OSError) as exc:
        raise UserError(f"cannot open the portal's database: {str(exc).splitlines()[0]}") from None
    return Portal(strategy, strategy_path, spec, key, store, public_url=public_url, **limits)


def with_portal_inputs(inputs: tuple, cycle_dir: str | None, database: str | None) -> list:
    """INPUTS and, with ``--from-portal CYCLE_DIR``, every upload its portal stored (reconcile's inputs,
    as the portal's office page reads them); neither is a usage error."""
    if not inputs and not cycle_dir:
        raise click.UsageError("give the returned workbooks (INPUTS), or --from-portal CYCLE_DIR, or both")
    found = list(inputs)
    if cycle_dir:
        portal = open_portal(cycle_dir, database)
        found.extend(portal.store.inputs(portal.cycle))
        portal.store.dispose()
    return found


def from_portal_options(f):
    """``--from-portal CYCLE_DIR`` and ``--portal-database URL`` for reconcile and status."""
    f = click.option(
        "--portal-database", envvar="CASCADEBOOK_PORTAL_DATABASE", default=None, metavar="URL", help=DATABASE_HELP
    )(f)
    return click.option(
        "--from-portal",
        "from_portal",
        type=click.Path(exists=True, file_okay=False),
        default=None,
        metavar="CYCLE_DIR",
        help="Also read every upload stored by `cascadebook serve CYCLE_DIR` (its upload time is its received time).",
    )(f)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@click.command()
@click.argument("cycle_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--database", envvar="CASCADEBOOK_PORTAL_DATABASE", default=None, metavar="URL", help=DATABASE_HELP)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--public-url",
    default="",
    metavar="URL",
    help="The address people reach the portal at (behind a reverse proxy): the links carry it.",
)
@click.option(
    "--workers", type=click.IntRange(min=1), default=None, help="Processes checking uploads [default: cores]."
)
def serve(cycle_dir: str, database: str | None, host: str, port: int, public_url: str, workers: int | None) -> None:
    """Run the intake portal for the cycle in CYCLE_DIR (its strategy and key): each department
    uploads its workbook on its own page and sees the findings at once; the strategy office's page
    shows the board, the findings and the master. Stop it with Ctrl-C."""
    import os

    import uvicorn

    from cascadebook.portal.app import create_app

    portal = open_portal(cycle_dir, database, public_url, check_workers=workers or os.cpu_count() or 1)
    base = public_url.rstrip("/") or f"http://{host if ':' not in host else f'[{host}]'}:{port}"
    portal.public_url = base
    click.echo(f"office page (keep it secret): {portal.office_link()}")
    click.echo(f"department links: cascadebook portal-links {cycle_dir}   (or on the office page)")
    click.echo(f"database: {portal.store.url.split('@')[-1]}")
    if not _loopback(host):
        click.echo(
            f"warning: listening on {host}, not only this machine. Put the portal behind a reverse proxy with "
            "TLS (Caddy: `reverse_proxy 127.0.0.1:8000`; nginx: proxy_pass with ssl_certificate) and pass "
            "--public-url https://...; without TLS the links' secrets travel in clear text.",
            err=True,
        )
    uvicorn.run(create_app(portal), host=host, port=port, log_level="info", proxy_headers=False)


@click.command("portal-links")
@click.argument("cycle_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--database", envvar="CASCADEBOOK_PORTAL_DATABASE", default=None, metavar="URL", help=DATABASE_HELP)
@click.option("--public-url", default="http://127.0.0.1:8000", show_default=True, metavar="URL")
def portal_links(cycle_dir: str, database: str | None, public_url: str) -> None:
    """Print each department's portal link (code, head's address, link), one per line."""
    portal = open_portal(cycle_dir, database, public_url)
    for dep in portal.strategy.departments:
        click.echo(f"{dep.code}\t{dep.email}\t{portal.department_link(dep.code)}")


COMMANDS = [serve, portal_links]
