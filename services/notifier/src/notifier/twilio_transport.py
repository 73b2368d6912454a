"""An async transport for the twilio package on httpx, so sends never block the loop."""

from __future__ import annotations

import logging
from typing import Any

import httpx
from twilio.http import AsyncHttpClient
from twilio.http.response import Response


class HttpxTwilioClient(AsyncHttpClient):
    def __init__(self, client: httpx.AsyncClient) -> None:
        super().__init__(logger=logging.getLogger(__name__), is_async=True)
        self._client = client

    # twilio's base class declares request() synchronous; its async callers await it.
    async def request(  # type: ignore[override]
        self,
        method: str,
        uri: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - twilio's interface
        allow_redirects: bool = False,
    ) -> Response:
        response = await self._client.request(
            method,
            uri,
            params=_present(params),
            # httpx would send a None as an empty field, which Twilio reads as a value.
            data=_present(data),
            headers=headers,
            auth=auth,
            timeout=timeout if timeout is not None else httpx.USE_CLIENT_DEFAULT,
            follow_redirects=allow_redirects,
        )
        return Response(response.status_code, response.text, response.headers)


def _present(fields: dict[str, object] | None) -> dict[str, Any] | None:
    return {k: v for k, v in fields.items() if v is not None} if fields else None
