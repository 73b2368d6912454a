"""Signed, expiring links to stored media: the notifier signs, the gateway checks. Pure."""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import datetime
from urllib.parse import urlencode

MEDIA_PATH = "/media"
_SHA256 = re.compile(r"[0-9a-f]{64}")


def is_sha256(value: str) -> bool:
    return bool(_SHA256.fullmatch(value))


def signature(secret: str, sha256: str, expires: int) -> str:
    message = f"{sha256}:{expires}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signed_link(base_url: str, secret: str, sha256: str, expires_at: datetime) -> str:
    """``{base}/media/{sha256}?expires=..&sig=..``; only a content hash goes in the path."""
    if not is_sha256(sha256):
        raise ValueError("media is named by its lower-case hex sha256")
    expires = int(expires_at.timestamp())
    query = urlencode({"expires": expires, "sig": signature(secret, sha256, expires)})
    return f"{base_url.rstrip('/')}{MEDIA_PATH}/{sha256}?{query}"


def link_is_valid(secret: str, sha256: str, expires: int, sig: str, now: datetime) -> bool:
    """Right signature for this hash and expiry, and not expired; constant-time compare."""
    if not is_sha256(sha256) or expires < int(now.timestamp()):
        return False
    return hmac.compare_digest(signature(secret, sha256, expires), sig)
