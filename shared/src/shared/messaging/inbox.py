"""Inbox: remembers which messages a consumer has handled, so a repeat changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Column, DateTime, MetaData, String, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def inbox_table(metadata: MetaData) -> Table:
    return Table(
        "inbox",
        metadata,
        Column("consumer", String(64), primary_key=True),
        Column("message_key", String(255), primary_key=True),
        Column("handled_at", DateTime(timezone=True), nullable=False),
    )


async def claim(session: AsyncSession, table: Table, consumer: str, message_key: str) -> bool:
    """Record the message as handled in the caller's transaction; False if it already was."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(table)
        .values(consumer=consumer, message_key=message_key, handled_at=datetime.now(UTC))
        .on_conflict_do_nothing()
        # rowcount is not reliable across drivers for ON CONFLICT; RETURNING is.
        .returning(table.c.message_key)
    )
    result = await session.execute(statement)
    return result.first() is not None
