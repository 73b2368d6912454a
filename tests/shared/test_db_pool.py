"""The connection pool on a real PostgreSQL: no round trip of its own before each
transaction, yet a connection the server closed while it sat idle is replaced unseen."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import exc, text
from sqlalchemy.ext.asyncio import AsyncEngine

from shared import db


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = db.create_engine(database_url, schema="public", pool_size=1, max_overflow=0)
    yield engine
    await engine.dispose()


def pings(engine: AsyncEngine) -> list[object]:
    """Each ping the pool sends from now on (pool_pre_ping sends them the same way)."""
    dialect = engine.sync_engine.dialect
    sent: list[object] = []
    ping = dialect.do_ping

    def counted(dbapi_connection: object) -> bool:
        sent.append(dbapi_connection)
        return ping(dbapi_connection)

    dialect.do_ping = counted  # type: ignore[method-assign]
    return sent


async def backend_pid(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def terminate(database_url: str, pid: int) -> None:
    other = db.create_engine(database_url, schema="public")
    try:
        async with other.connect() as connection:
            await connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        await other.dispose()


async def test_a_connection_in_steady_use_is_not_pinged_before_each_transaction(
    engine: AsyncEngine,
) -> None:
    await backend_pid(engine)  # the pool's one connection now exists
    sent = pings(engine)
    for _ in range(5):
        async with engine.begin() as connection:
            await connection.execute(text("SELECT 42"))
    assert sent == []


async def test_a_connection_closed_by_the_server_while_idle_is_replaced_unseen(
    engine: AsyncEngine, database_url: str
) -> None:
    first = await backend_pid(engine)
    await terminate(database_url, first)
    await asyncio.sleep(db.PING_AFTER_IDLE_SECONDS + 0.2)
    sent = pings(engine)
    second = await backend_pid(engine)
    assert second != first
    assert len(sent) == 1


async def test_a_connection_closed_just_after_use_fails_once_as_a_disconnect_then_works(
    database_url: str,
) -> None:
    # The price of not pinging: handlers take this for an outage and try again. (Idle
    # for a minute before a ping, so that a slow machine cannot make this test ping.)
    engine = db.create_engine(
        database_url, schema="public", pool_size=1, max_overflow=0, ping_after_idle=60
    )
    try:
        await fails_once_then_works(engine, database_url)
    finally:
        await engine.dispose()


async def fails_once_then_works(engine: AsyncEngine, database_url: str) -> None:
    first = await backend_pid(engine)
    await terminate(database_url, first)
    with pytest.raises(exc.DBAPIError) as failure:
        await backend_pid(engine)
    assert failure.value.connection_invalidated
    assert await backend_pid(engine) != first


def counted(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_a_single_statement_runs_as_its_own_transaction_and_is_counted(
    engine: AsyncEngine,
) -> None:
    sessions = db.session_factory(engine)
    labels = {"schema": "public"}
    commits = counted("tutordesk_db_transactions_total", outcome="commit", **labels)
    statements = counted("tutordesk_db_statements_total", **labels)
    # now() is when the transaction began: the statement's own start only when no BEGIN
    # went before it.
    alone = text("SELECT now() = statement_timestamp()")
    async with db.single_statement(sessions) as session:
        assert (await session.execute(alone)).scalar_one() is True
    async with sessions() as session, session.begin():
        assert (await session.execute(alone)).scalar_one() is False
        await session.execute(text("SELECT 1"))
    assert counted("tutordesk_db_transactions_total", outcome="commit", **labels) == commits + 2
    assert counted("tutordesk_db_statements_total", **labels) == statements + 3
