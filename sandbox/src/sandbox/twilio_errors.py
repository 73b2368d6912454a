"""Twilio's REST errors: the codes the sandbox answers with and the JSON they travel in."""

from __future__ import annotations

from fastapi.responses import JSONResponse

AUTHENTICATE = 20003
NOT_FOUND = 20404
TOO_MANY_REQUESTS = 20429
INTERNAL_SERVER_ERROR = 20500
INVALID_TO = 21211
BODY_REQUIRED = 21602
FROM_REQUIRED = 21603
INVALID_STATUS_CALLBACK = 21609
BODY_TOO_LONG = 21617

# What an injected fault of each HTTP status says; an unlisted 5xx reads as a 500.
_FAULTS: dict[int, tuple[int, str]] = {
    400: (INVALID_TO, "Invalid 'To' Phone Number"),
    401: (AUTHENTICATE, "Authenticate"),
    404: (NOT_FOUND, "The requested resource was not found"),
    429: (TOO_MANY_REQUESTS, "Too Many Requests"),
    500: (INTERNAL_SERVER_ERROR, "Internal Server Error"),
    503: (INTERNAL_SERVER_ERROR, "Internal Server Error"),
}


class TwilioError(Exception):
    """A refusal as Twilio words it; the twilio package raises TwilioRestException from it."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def as_json(self) -> dict[str, object]:
        return {
            "code": self.code,
            "message": self.message,
            "more_info": f"https://www.twilio.com/docs/errors/{self.code}",
            "status": self.status,
        }

    def response(self) -> JSONResponse:
        return JSONResponse(self.as_json(), status_code=self.status)


def authentication_error() -> TwilioError:
    return TwilioError(401, AUTHENTICATE, "Authenticate")


def fault_error(status: int) -> TwilioError:
    """The error an injected fault of HTTP ``status`` answers with."""
    code, message = _FAULTS.get(status, (INTERNAL_SERVER_ERROR, "Internal Server Error"))
    return TwilioError(status, code, message)
