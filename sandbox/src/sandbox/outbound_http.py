"""The sandbox's one HTTP client for calling out: webhooks and status callbacks."""

from __future__ import annotations

import httpx

TIMEOUT_SECONDS = 10.0


class OutboundHttp:
    """Holds the shared httpx.AsyncClient. The app's lifespan opens and closes it; it also
    opens on first use, because the embedded stack serves the sandbox with lifespan off."""

    def __init__(self) -> None:
        self._client: httpx.AsyncClient | None = None

    def open(self) -> httpx.AsyncClient:
        if self._client is None or self._client.is_closed:
            self._client = httpx.AsyncClient(timeout=TIMEOUT_SECONDS)
        return self._client

    @property
    def client(self) -> httpx.AsyncClient:
        return self.open()

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
