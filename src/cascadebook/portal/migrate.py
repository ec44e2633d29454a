"""Alembic, run from the code: the portal's schema is brought up to date each time a store opens.

The migration scripts ship inside the package (``portal/migrations``), so an installed cascadebook
upgrades its own database; no alembic.ini and no command to remember.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def upgrade(engine: Engine) -> None:
    """Run every migration not yet applied to ``engine``'s database (none when it is current)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
