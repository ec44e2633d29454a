"""Alembic's environment for the portal: the connection is handed in by ``portal.migrate.upgrade``."""

from __future__ import annotations

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=None)
with context.begin_transaction():
    context.run_migrations()
