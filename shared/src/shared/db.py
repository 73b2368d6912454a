"""Database engines and sessions: PostgreSQL (a schema per service) or a SQLite file."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase

from shared import metrics


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def sync_url(url: str) -> str:
    """The same database through a synchronous driver, for Alembic."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return parsed.set(drivername="sqlite").render_as_string(hide_password=False)
    return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def async_url(url: str) -> str:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite").render_as_string(hide_password=False)
    return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


# pool_pre_ping would cost a round trip, and a transaction of the server's, on every
# checkout: as many as all the work itself. A connection back in the pool for less than
# this is taken to be alive; a restart of the server takes longer, so connections it
# closed are still found out here. One that dies while in use or within this time fails
# its statement as a disconnect, which invalidates the whole pool; handlers wait that out
# as an outage and try again on new connections.
PING_AFTER_IDLE_SECONDS = 1.0


def create_engine(
    url: str,
    *,
    schema: str,
    pool_size: int = 5,
    max_overflow: int = 5,
    ping_after_idle: float = PING_AFTER_IDLE_SECONDS,
) -> AsyncEngine:
    """An engine whose tables live in ``schema``; on SQLite the file is the schema."""
    url = async_url(url)
    if is_sqlite(url):
        engine = create_async_engine(url, connect_args={"timeout": 30})
        _serialise_sqlite_writers(engine)
        _count_work(engine, schema)
        return engine.execution_options(schema_translate_map={schema: None})
    engine = create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        # The most recently used connection first: a quiet service keeps reusing one warm
        # connection, so it is rarely idle long enough to need a ping (below).
        pool_use_lifo=True,
        pool_recycle=1800,
    )
    _ping_after_idle(engine, ping_after_idle)
    _count_work(engine, schema)
    return engine


def _count_work(engine: AsyncEngine, schema: str) -> None:
    """Transactions and statements, for /metrics: round trips are what a message costs."""
    commits = metrics.DB_TRANSACTIONS.labels(schema, "commit")
    rollbacks = metrics.DB_TRANSACTIONS.labels(schema, "rollback")
    statements = metrics.DB_STATEMENTS.labels(schema)
    event.listen(engine.sync_engine, "commit", lambda _connection: commits.inc())
    event.listen(engine.sync_engine, "rollback", lambda _connection: rollbacks.inc())
    event.listen(engine.sync_engine, "before_cursor_execute", lambda *_: statements.inc())


def _ping_after_idle(engine: AsyncEngine, idle_seconds: float) -> None:
    dialect = engine.sync_engine.dialect

    @event.listens_for(engine.sync_engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.pop("idle_since", None)
        if idle_since is None or time.monotonic() - idle_since < idle_seconds:
            return
        try:
            alive = dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            if not dialect.is_disconnect(error, dbapi_connection, None):
                raise
            alive = False
        if not alive:
            # The pool replaces this connection, and every older one, then retries.
            raise exc.InvalidatePoolError("connection found closed after being idle")


def _serialise_sqlite_writers(engine: AsyncEngine) -> None:
    # SQLite upgrades a read lock to a write lock lazily and then fails at once with
    # "database is locked"; BEGIN IMMEDIATE takes the write lock up front and waits.
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def upsert_insert(session: AsyncSession) -> Any:
    """The ``insert`` of the session's database, the one with ``on_conflict_do_*``."""
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def single_statement(
    sessions: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """A session for work done in one statement, which PostgreSQL then commits by itself:
    no BEGIN and COMMIT round trips around it, a third of the cost of a short write.
    Atomic only as one statement is; on SQLite, an ordinary transaction."""
    async with sessions() as session:
        if session.get_bind().dialect.name == "postgresql":
            await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        yield session
        await session.commit()


class Base(DeclarativeBase):
    """Not used for tables directly: each service declares its own base with its schema."""
