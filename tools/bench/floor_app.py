"""The floors' HTTP side: a bare FastAPI endpoint, and the same endpoint doing what the
gateway must (parse a Twilio form, check its signature, publish with a confirm).

Run as ``python -m bench.floor_app bare|twilio PORT [RABBITMQ_URL]``."""

from __future__ import annotations

import asyncio
import sys
from urllib.parse import parse_qs

import uvicorn
from fastapi import FastAPI, Request, Response
from twilio.request_validator import RequestValidator

from shared import sandbox_defaults
from shared.events import Channel, Envelope, InboundMessageReceived
from shared.messaging.rabbitmq import RabbitBroker


def bare_app() -> FastAPI:
    app = FastAPI()

    @app.post("/hook")
    async def hook() -> Response:
        return Response("<Response></Response>", media_type="application/xml")

    return app


def twilio_app(rabbitmq_url: str, public_url: str) -> FastAPI:
    app = FastAPI()
    validator = RequestValidator(sandbox_defaults.TWILIO_AUTH_TOKEN)
    broker = RabbitBroker(rabbitmq_url, service="floor", exchange_name="bench-floor")
    app.router.on_startup.append(broker.connect)

    @app.post("/hook")
    async def hook(request: Request) -> Response:
        form = parse_qs((await request.body()).decode(), keep_blank_values=True)
        flat = {k: v[0] for k, v in form.items()}
        if not validator.validate(
            public_url + "/hook", flat, request.headers["x-twilio-signature"]
        ):
            return Response(status_code=401)
        event = InboundMessageReceived(
            channel=Channel.TWILIO,
            provider_message_id=flat["MessageSid"],
            from_number=flat["From"].removeprefix("whatsapp:"),
            to_number=flat["To"].removeprefix("whatsapp:"),
            text=flat.get("Body", ""),
        )
        await broker.publish(Envelope.wrap(event, key=event.from_number))
        return Response("<Response></Response>", media_type="application/xml")

    return app


def main() -> None:
    kind, port = sys.argv[1], int(sys.argv[2])
    url = f"http://127.0.0.1:{port}"
    app = bare_app() if kind == "bare" else twilio_app(sys.argv[3], url)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    asyncio.run(uvicorn.Server(config).serve())


if __name__ == "__main__":
    main()
