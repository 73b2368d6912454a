"""Typed dependencies for the admin routes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Query, Request
from pydantic import AfterValidator
from sqlalchemy.ext.asyncio import AsyncSession

from payments.handlers import PaymentsHandler
from payments.paystack_client import PaystackClient


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.sessions() as session:
        yield session


def get_handler(request: Request) -> PaymentsHandler:
    handler: PaymentsHandler = request.app.state.handler
    return handler


def get_paystack(request: Request) -> PaystackClient:
    paystack: PaystackClient = request.app.state.paystack
    return paystack


SessionDep = Annotated[AsyncSession, Depends(get_session)]
HandlerDep = Annotated[PaymentsHandler, Depends(get_handler)]
PaystackDep = Annotated[PaystackClient, Depends(get_paystack)]
Limit = Annotated[int, Query(ge=1, le=200, description="Page size")]
Offset = Annotated[int, Query(ge=0, le=1_000_000_000, description="Rows to skip")]


def _utc(moment: datetime) -> datetime:
    # SQLite (the embedded default) hands back naive datetimes; every time here is UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_utc)]
