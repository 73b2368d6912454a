"""The chat page, where one person plays several phones (a student, a tutor, an agent),
the conversation feed it polls, and the role switch that registers a phone as a tutor or
an agent with the conversation service's admin API."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Literal

import httpx
from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from sandbox.store import Store
from shared import sandbox_defaults

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"
# The page loads its script and style from here and talks only to here: no inline
# script, no third party, nothing may frame it.
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
# A demo tutor answers every subject the desk offers by default.
DEMO_SUBJECTS = ["Mathematics", "English", "Physics", "Chemistry", "Biology"]


class ChatSettings(BaseSettings):
    """Where the conversation service's admin API is, for the role switch."""

    model_config = SettingsConfigDict(extra="ignore")

    conversation_url: str = "http://127.0.0.1:8001"
    admin_api_token: SecretStr = SecretStr(sandbox_defaults.ADMIN_API_TOKEN)


class RoleIn(BaseModel):
    phone: str = Field(pattern=r"^\+[1-9]\d{6,14}$")
    role: Literal["tutor", "agent"]
    name: str = Field("Demo", min_length=1, max_length=100)


class RoleOut(BaseModel):
    phone: str
    role: str
    registered: bool  # False: it already was


def chat_router(store: Store, settings: ChatSettings | None = None) -> APIRouter:
    router = APIRouter()
    chat_settings = settings or ChatSettings()

    @router.get("/", include_in_schema=False)
    async def chat_page() -> FileResponse:
        return FileResponse(
            STATIC / "chat.html",
            headers={"Content-Security-Policy": PAGE_CSP, "Cache-Control": "no-store"},
        )

    @router.get(
        "/sandbox/conversations/{number}",
        tags=["sandbox"],
        summary="Both directions with one phone, in order",
    )
    async def conversation(number: str) -> dict[str, object]:
        return {"messages": [m.as_json() for m in store.conversation(number)]}

    @router.post(
        "/sandbox/roles",
        tags=["sandbox"],
        summary="Make a phone a tutor (every subject) or a support agent, for playing both sides",
    )
    async def register_role(body: RoleIn) -> RoleOut:
        path, payload = (
            (
                "/api/tutors",
                {"phone_number": body.phone, "name": body.name, "subjects": DEMO_SUBJECTS},
            )
            if body.role == "tutor"
            else ("/api/agents", {"phone_number": body.phone, "name": body.name})
        )
        token = chat_settings.admin_api_token.get_secret_value()
        try:
            async with httpx.AsyncClient(
                base_url=chat_settings.conversation_url, timeout=5
            ) as client:
                response = await client.post(
                    path,
                    json=payload,
                    headers={"Authorization": f"Bearer {token}", "X-Admin-Actor": "sandbox-chat"},
                )
        except httpx.HTTPError as exc:
            log.warning("chat.role_unreachable", extra={"error": type(exc).__name__})
            raise HTTPException(502, "the conversation service did not answer") from None
        if response.status_code not in (201, 409):
            raise HTTPException(502, f"the conversation service answered {response.status_code}")
        return RoleOut(phone=body.phone, role=body.role, registered=response.status_code == 201)

    return router
