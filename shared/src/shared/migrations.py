"""Applies a service's Alembic migrations to its own schema, one migrator at a time."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, create_engine, text
from sqlalchemy.pool import NullPool
from sqlalchemy.schema import CreateSchema

from shared.db import is_sqlite, sync_url

log = logging.getLogger(__name__)


def alembic_config(url: str, script_location: Path) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.set_main_option("sqlalchemy.url", sync_url(url).replace("%", "%%"))
    return config


def upgrade(url: str, script_location: Path) -> None:
    command.upgrade(alembic_config(url, script_location), "head")


async def upgrade_async(url: str, script_location: Path, schema: str) -> None:
    await asyncio.to_thread(upgrade, url, script_location)
    log.info("migrations.applied", extra={"schema": schema})


def run_env(metadata: MetaData, schema: str) -> None:
    """Body of every service's ``env.py``: online migrations only."""
    url = context.config.get_main_option("sqlalchemy.url")
    assert url is not None
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as connection:
        if is_sqlite(url):
            connection = connection.execution_options(schema_translate_map={schema: None})
            context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
        else:
            # Replicas starting together would race to create the same tables.
            connection.execute(text("SELECT pg_advisory_lock(hashtext(:s))"), {"s": schema})
            connection.execute(CreateSchema(schema, if_not_exists=True))
            connection.commit()
            context.configure(
                connection=connection,
                target_metadata=metadata,
                version_table_schema=schema,
                include_schemas=True,
            )
        with context.begin_transaction():
            context.run_migrations()
        if not is_sqlite(url):
            connection.execute(text("SELECT pg_advisory_unlock(hashtext(:s))"), {"s": schema})
            connection.commit()
    engine.dispose()


def autogenerate(url: str, script_location: Path, message: str) -> None:
    """Write a new revision from the difference between the models and ``url``'s schema."""
    upgrade(url, script_location)
    command.revision(alembic_config(url, script_location), message=message, autogenerate=True)
