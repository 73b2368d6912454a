"""The notifier's tables: every message we send, and every status a provider reported."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    Uuid,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.messaging.inbox import inbox_table
from shared.messaging.outbox import outbox_table

SCHEMA = "notifier"


class Base(DeclarativeBase):
    metadata = MetaData(schema=SCHEMA)


# The outbox carries media.fetched; the inbox remembers which fetches were answered.
outbox = outbox_table(Base.metadata)
inbox = inbox_table(Base.metadata)


class OutboundMessage(Base):
    """One provider message. A requested message longer than the channel allows is sent
    as several parts, each its own row, sharing ``request_id``."""

    __tablename__ = "outbound_messages"
    __table_args__ = (Index("ix_notifier_outbound_to_created", "to_number", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    request_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    part: Mapped[int] = mapped_column(Integer, default=0)
    to_number: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(16))
    priority: Mapped[str] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(Text)
    options: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), index=True)
    provider_message_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error_code: Mapped[str | None] = mapped_column(String(32))
    error_message: Mapped[str | None] = mapped_column(Text)
    in_reply_to: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32), default="reply", server_default="reply")
    # What the channel is sent, as sent (media as references, made links at send time).
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The approved template it went as, when the 24-hour window was closed.
    template: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class DeliveryStatus(Base):
    """Every status callback as it came, in arrival order, even for unknown messages."""

    __tablename__ = "delivery_statuses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    provider_message_id: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16))
    error_code: Mapped[str | None] = mapped_column(String(32))
    error_message: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Contact(Base):
    """What the notifier must know about a number: when it last wrote (the 24-hour
    customer-service window) and whether it opted out."""

    __tablename__ = "contacts"

    phone_number: Mapped[str] = mapped_column(String(20), primary_key=True)
    last_inbound_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    preference_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
