"""Serves stored media to providers through signed, expiring links; nothing else."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse

from gateway.settings import GatewaySettings
from shared.media_links import MEDIA_PATH, link_is_valid
from shared.media_store import MediaStore, sniff_type


def media_router(settings: GatewaySettings) -> APIRouter:
    router = APIRouter(tags=["media"])
    store = MediaStore(settings.media_root)
    secret = settings.media_signing_key()

    @router.get(MEDIA_PATH + "/{sha256}", summary="A stored image, by signed link")
    async def stored_media(
        sha256: str, expires: int = Query(0), sig: str = Query("", max_length=128)
    ) -> Response:
        if not link_is_valid(secret, sha256, expires, sig, datetime.now(UTC)):
            return JSONResponse({"detail": "invalid or expired link"}, status_code=403)
        data = store.read(sha256)  # the hash was checked: it is 64 hex digits
        if data is None:
            return JSONResponse({"detail": "no such media"}, status_code=404)
        return Response(
            data,
            media_type=sniff_type(data) or "application/octet-stream",
            headers={"Cache-Control": "private, max-age=300"},
        )

    return router
