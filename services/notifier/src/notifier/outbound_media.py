"""Outbound media in a stored payload -> what a provider fetches: the URL given, or a
signed, expiring link to our stored copy (served by the gateway), made at send time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from notifier.twilio_sender import PermanentSendError
from shared.events import Channel
from shared.media_links import signed_link


class OutboundMedia:
    def __init__(
        self,
        public_base_url: str,
        secret: str | None,
        ttl: timedelta,
        clock: Callable[[], datetime],
    ) -> None:
        self.public_base_url = public_base_url
        self.secret = secret
        self.ttl = ttl
        self.clock = clock

    def link(self, media: dict[str, Any]) -> str:
        if media.get("url"):
            return str(media["url"])
        if not media.get("sha256"):
            raise PermanentSendError("media_missing", "media names neither a URL nor a sha256")
        if self.secret is None:
            raise PermanentSendError("media_unsigned", "MEDIA_LINK_SECRET is not set")
        expires = self.clock() + self.ttl
        return signed_link(self.public_base_url, self.secret, str(media["sha256"]), expires)

    def resolve(self, channel: Channel, payload: dict[str, Any]) -> dict[str, Any]:
        """The payload as the sender takes it, media turned into links."""
        if channel is Channel.TWILIO:
            media = payload.get("media") or []
            rest = {k: v for k, v in payload.items() if k != "media"}
            return {**rest, "media_urls": [self.link(m) for m in media]}
        if payload.get("type") == "image":
            image = dict(payload["image"])
            image["link"] = self.link(image.pop("media"))
            return {**payload, "image": image}
        return payload
