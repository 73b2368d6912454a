"""Admin: leads — every number that has written, with first and last contact."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from conversation.api.deps import Limit, Offset, SessionDep
from conversation.api.pages import Page, page_of
from conversation.models import Lead, Student

router = APIRouter(prefix="/api/leads", tags=["leads"])


class LeadOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    phone_number: str
    profile_name: str | None
    first_contact_at: datetime
    last_contact_at: datetime
    message_count: int


@router.get("", summary="List leads, most recent contact first")
async def list_leads(
    session: SessionDep,
    limit: Limit = 50,
    offset: Offset = 0,
    unregistered: bool = Query(False, description="Only numbers that never registered"),
) -> Page[LeadOut]:
    query = select(Lead).order_by(Lead.last_contact_at.desc())
    if unregistered:
        query = query.where(Lead.phone_number.not_in(select(Student.phone_number)))
    return await page_of(session, query, LeadOut, limit=limit, offset=offset)


@router.get("/{phone}", summary="One lead by phone number")
async def get_lead(phone: str, session: SessionDep) -> LeadOut:
    lead = await session.get(Lead, phone)
    if lead is None:
        raise HTTPException(404, "no lead with that number")
    return LeadOut.model_validate(lead)
