"""Fetches a user's media from its provider and keeps it if it is what it claims to be.

Only the provider's own hosts are contacted (each redirect is checked too), with the
provider's auth; the body is streamed and cut off at the cap; the type is read from the
bytes, not from a name or a header; the file is stored by its sha256."""

from __future__ import annotations

import fnmatch
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx

from shared.events import Channel, MediaFetched, MediaFetchRequested, MediaRef, MediaRejection
from shared.media_store import MediaStore, is_complete, sniff_type

log = logging.getLogger(__name__)

TWILIO_HOSTS = ("api.twilio.com", "*.twiliocdn.com", "*.twilio.com")
CLOUD_API_HOSTS = ("graph.facebook.com", "lookaside.fbsbx.com", "*.fbsbx.com", "*.fbcdn.net")
MAX_REDIRECTS = 3


class MediaRefused(Exception):
    def __init__(self, rejection: MediaRejection, detail: str) -> None:
        super().__init__(detail)
        self.rejection = rejection
        self.detail = detail


@dataclass(frozen=True)
class ProviderAccess:
    """How to reach one provider's media: its hosts and the auth it wants there."""

    hosts: tuple[str, ...]
    auth: httpx.Auth | None = None
    headers: tuple[tuple[str, str], ...] = ()
    # Cloud API only: where a media id is looked up.
    graph_base_url: str | None = None

    def allows(self, url: str) -> bool:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if parts.scheme not in ("https", "http") or not host:
            return False
        return any(fnmatch.fnmatchcase(host, pattern) for pattern in self.hosts)


def hosts_with(defaults: Iterable[str], *urls: str) -> tuple[str, ...]:
    """The provider's hosts plus those of the API base URLs we were given (the sandbox
    when it stands in, a proxy an operator put in front)."""
    extra = [(urlsplit(u).hostname or "").lower() for u in urls if u]
    return tuple(dict.fromkeys([*defaults, *[h for h in extra if h]]))


class MediaFetcher:
    def __init__(
        self,
        http: httpx.AsyncClient,
        store: MediaStore,
        providers: dict[Channel, ProviderAccess],
        chunk_size: int = 64 * 1024,
    ) -> None:
        self.http = http
        self.store = store
        self.providers = providers
        self.chunk_size = chunk_size

    async def fetch(self, request: MediaFetchRequested) -> MediaFetched:
        """Never raises for what the media is; raises httpx.TransportError for a network
        failure worth retrying."""
        try:
            stored = await self._fetch(request)
        except MediaRefused as refused:
            log.info("media.refused", extra={"rejection": refused.rejection.value})
            return MediaFetched(
                request_id=request.request_id,
                phone_number=request.phone_number,
                rejection=refused.rejection,
                detail=refused.detail,
            )
        return MediaFetched(
            request_id=request.request_id, phone_number=request.phone_number, stored=stored
        )

    async def _fetch(self, request: MediaFetchRequested) -> MediaRef:
        access = self.providers.get(request.channel)
        if access is None:
            raise MediaRefused(MediaRejection.DOWNLOAD_FAILED, "no such provider configured")
        url = request.media.url
        if request.channel is Channel.CLOUD_API and request.media.provider_media_id:
            url = await self._cloud_media_url(access, request.media.provider_media_id)
        if not url:
            raise MediaRefused(MediaRejection.DOWNLOAD_FAILED, "the media has no address")
        data = await self._download(access, url, request.max_bytes)
        content_type = sniff_type(data)
        if content_type is None or content_type not in request.allowed_types:
            raise MediaRefused(
                MediaRejection.UNSUPPORTED_TYPE,
                f"the file is {content_type or 'of an unknown type'}, not "
                + ", ".join(request.allowed_types),
            )
        if not is_complete(data, content_type):
            raise MediaRefused(MediaRejection.UNREADABLE, "the image is truncated or corrupt")
        sha256 = self.store.save(data)
        log.info("media.stored", extra={"content_type": content_type, "size": len(data)})
        return MediaRef(
            sha256=sha256,
            content_type=content_type,
            size_bytes=len(data),
            caption=request.media.caption,
            provider_media_id=request.media.provider_media_id,
        )

    async def _cloud_media_url(self, access: ProviderAccess, media_id: str) -> str:
        if not media_id.replace("-", "").replace("_", "").isalnum():
            raise MediaRefused(MediaRejection.DOWNLOAD_FAILED, "not a media id")
        response = await self.http.get(
            f"{access.graph_base_url}/{media_id}", headers=dict(access.headers)
        )
        if response.status_code != 200:
            raise MediaRefused(
                MediaRejection.DOWNLOAD_FAILED, f"media lookup answered {response.status_code}"
            )
        try:
            return str(response.json()["url"])
        except (ValueError, KeyError, TypeError) as error:
            raise MediaRefused(MediaRejection.DOWNLOAD_FAILED, "media lookup had no url") from error

    async def _download(self, access: ProviderAccess, url: str, max_bytes: int) -> bytes:
        first_host = urlsplit(url).hostname
        for _ in range(MAX_REDIRECTS + 1):
            if not access.allows(url):
                raise MediaRefused(
                    MediaRejection.DOWNLOAD_FAILED, "the media is not on the provider's hosts"
                )
            # Credentials go only to the host they belong to, never along a redirect.
            same_host = urlsplit(url).hostname == first_host
            async with self.http.stream(
                "GET",
                url,
                auth=access.auth if same_host else None,
                headers=dict(access.headers) if same_host else None,
                follow_redirects=False,
            ) as response:
                if response.is_redirect and "location" in response.headers:
                    url = urljoin(url, response.headers["location"])
                    continue
                if response.status_code != 200:
                    raise MediaRefused(
                        MediaRejection.DOWNLOAD_FAILED, f"download answered {response.status_code}"
                    )
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > max_bytes:
                    raise MediaRefused(MediaRejection.TOO_LARGE, f"over {max_bytes} bytes")
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.aiter_bytes(self.chunk_size):
                    size += len(chunk)
                    if size > max_bytes:
                        raise MediaRefused(MediaRejection.TOO_LARGE, f"over {max_bytes} bytes")
                    chunks.append(chunk)
                return b"".join(chunks)
        raise MediaRefused(MediaRejection.DOWNLOAD_FAILED, "too many redirects")
