"""Signs requests the way Twilio signs the webhooks and callbacks it sends."""

from __future__ import annotations

from collections.abc import Mapping

from twilio.request_validator import RequestValidator

SIGNATURE_HEADER = "X-Twilio-Signature"


def twilio_signature(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    """The X-Twilio-Signature of a form POSTed to exactly ``url``."""
    return str(RequestValidator(auth_token).compute_signature(url, dict(params)))
