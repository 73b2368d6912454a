"""Paystack's webhook signature: HMAC-SHA512 of the raw body with the secret key, in hex."""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "x-paystack-signature"


def paystack_signature(secret_key: str, body: bytes) -> str:
    """The ``x-paystack-signature`` Paystack sends with ``body``."""
    return hmac.new(secret_key.encode(), body, hashlib.sha512).hexdigest()


def signature_is_valid(secret_key: str, body: bytes, given: str) -> bool:
    """True only for the exact signature of ``body``, compared in constant time."""
    if not given:
        return False
    expected = paystack_signature(secret_key, body)
    return hmac.compare_digest(expected.encode(), given.strip().lower().encode())
