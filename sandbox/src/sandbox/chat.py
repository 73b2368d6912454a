"""The chat page, where one person plays several phones, and the conversation feed it polls."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from sandbox.store import Store

STATIC = Path(__file__).parent / "static"
# The page loads its script and style from here and talks only to here: no inline
# script, no third party, nothing may frame it.
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


def chat_router(store: Store) -> APIRouter:
    router = APIRouter()

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

    return router
