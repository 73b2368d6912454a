"""The sandbox speaks the Cloud API: sends checked against WhatsApp's limits, signed
status webhooks, marking read, media behind the access token, and signed inbound."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx

from sandbox.cloud_api_shapes import signature
from sandbox.testing import RunningSandbox
from shared import sandbox_defaults
from shared.testing import eventually

TOKEN = {"Authorization": f"Bearer {sandbox_defaults.WHATSAPP_ACCESS_TOKEN}"}
MESSAGES = f"/cloud-api/v21.0/{sandbox_defaults.WHATSAPP_PHONE_NUMBER_ID}/messages"


def text(to: str, body: str) -> dict[str, Any]:
    return {"messaging_product": "whatsapp", "to": to, "type": "text", "text": {"body": body}}


def statuses(sandbox: RunningSandbox, wamid: str) -> list[str]:
    found = []
    for post in sandbox.receiver.posts:
        if not post.raw.startswith(b"{"):
            continue
        value = json.loads(post.raw)["entry"][0]["changes"][0]["value"]
        found += [s["status"] for s in value.get("statuses", []) if s["id"] == wamid]
    return found


async def test_a_text_is_accepted_with_a_wamid_and_reported_sent_delivered_read_signed(
    sandbox: RunningSandbox,
) -> None:
    response = await sandbox.http.post(MESSAGES, json=text("2348000000001", "Hi"), headers=TOKEN)
    assert response.status_code == 200
    answer = response.json()
    assert answer["messaging_product"] == "whatsapp"
    assert answer["contacts"][0]["wa_id"] == "2348000000001"
    wamid = answer["messages"][0]["id"]
    assert wamid.startswith("wamid.")
    await eventually(lambda: statuses(sandbox, wamid) == ["sent", "delivered", "read"])
    for post in sandbox.receiver.posts:
        assert post.path == "/api/webhook/whatsapp"
        assert post.hub_signature == signature(sandbox_defaults.WHATSAPP_APP_SECRET, post.raw)
    listed = (await sandbox.http.get("/sandbox/cloud-api/messages")).json()["messages"]
    assert [(m["body"], m["request"]["type"]) for m in listed] == [("Hi", "text")]


async def test_interactive_messages_over_whatsapps_limits_are_refused_like_meta_does(
    sandbox: RunningSandbox,
) -> None:
    def buttons(title: str, count: int = 2) -> dict[str, Any]:
        return {
            "messaging_product": "whatsapp",
            "to": "2348000000001",
            "type": "interactive",
            "interactive": {
                "type": "button",
                "body": {"text": "Pick one"},
                "action": {
                    "buttons": [
                        {"type": "reply", "reply": {"id": f"b{i}", "title": title}}
                        for i in range(count)
                    ]
                },
            },
        }

    fits = await sandbox.http.post(MESSAGES, json=buttons("x" * 20), headers=TOKEN)
    long_title = await sandbox.http.post(MESSAGES, json=buttons("x" * 21), headers=TOKEN)
    four = await sandbox.http.post(MESSAGES, json=buttons("ok", 4), headers=TOKEN)
    assert fits.status_code == 200
    assert [long_title.status_code, four.status_code] == [400, 400]
    assert long_title.json()["error"]["code"] == 131009
    listed = (await sandbox.http.get("/sandbox/cloud-api/messages")).json()["messages"]
    assert listed[0]["body"] == "Pick one\n\n1. " + "x" * 20 + "\n2. " + "x" * 20


async def test_no_token_faults_and_test_numbers_answer_as_meta_does(
    sandbox: RunningSandbox,
) -> None:
    unauthorised = await sandbox.http.post(MESSAGES, json=text("2348000000001", "Hi"))
    await sandbox.http.post("/sandbox/cloud-api/faults", json={"status": 429, "count": 1})
    limited = await sandbox.http.post(MESSAGES, json=text("2348000000001", "Hi"), headers=TOKEN)
    refused = await sandbox.http.post(MESSAGES, json=text("2348000131030", "Hi"), headers=TOKEN)
    fails_later = await sandbox.http.post(MESSAGES, json=text("2348000131047", "Hi"), headers=TOKEN)
    assert unauthorised.status_code == 401
    assert unauthorised.json()["error"]["code"] == 190
    assert (limited.status_code, limited.json()["error"]["code"]) == (429, 130429)
    assert (refused.status_code, refused.json()["error"]["code"]) == (400, 131030)
    wamid = fails_later.json()["messages"][0]["id"]
    await eventually(lambda: statuses(sandbox, wamid) == ["sent", "failed"])
    failed = json.loads(sandbox.receiver.posts[-1].raw)["entry"][0]["changes"][0]["value"]
    assert failed["statuses"][0]["errors"][0]["code"] == 131047


async def test_marking_read_is_recorded(sandbox: RunningSandbox) -> None:
    body = {"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.IN1"}
    response = await sandbox.http.post(MESSAGES, json=body, headers=TOKEN)
    assert response.json() == {"success": True}
    read = (await sandbox.http.get("/sandbox/cloud-api/read")).json()
    assert "wamid.IN1" in read["message_ids"]


async def test_media_ids_resolve_to_a_download_that_needs_the_token(
    sandbox: RunningSandbox,
) -> None:
    lookup = await sandbox.http.get("/cloud-api/v21.0/sandbox-media-sample-png", headers=TOKEN)
    assert lookup.status_code == 200
    assert lookup.json()["mime_type"] == "image/png"
    url = lookup.json()["url"]
    async with httpx.AsyncClient() as client:
        without = await client.get(url)
        with_token = await client.get(url, headers=TOKEN)
    assert without.status_code == 401
    assert with_token.content.startswith(b"\x89PNG")


async def test_twilio_hosted_media_needs_the_accounts_basic_auth(sandbox: RunningSandbox) -> None:
    path = (
        f"/twilio/2010-04-01/Accounts/{sandbox_defaults.TWILIO_ACCOUNT_SID}"
        "/Messages/MM1/Media/sample.jpg"
    )
    credentials = f"{sandbox_defaults.TWILIO_ACCOUNT_SID}:{sandbox_defaults.TWILIO_AUTH_TOKEN}"
    auth = {"Authorization": "Basic " + base64.b64encode(credentials.encode()).decode()}
    assert (await sandbox.http.get(path)).status_code == 401
    served = await sandbox.http.get(path, headers=auth)
    assert served.content.startswith(b"\xff\xd8\xff")


async def test_an_inbound_button_tap_and_image_reach_the_gateway_signed(
    sandbox: RunningSandbox,
) -> None:
    tap = await sandbox.http.post(
        "/sandbox/cloud-api/inbound",
        json={"from": "+2348000000009", "body": "Shop", "reply_id": "shop"},
    )
    photo = await sandbox.http.post(
        "/sandbox/cloud-api/inbound",
        json={"from": "+2348000000009", "body": "Q4", "image": "sample.png"},
    )
    assert (tap.json()["gateway_status"], photo.json()["gateway_status"]) == (200, 200)
    posts = [p for p in sandbox.receiver.posts if p.raw.startswith(b"{")]
    assert all(
        p.hub_signature == signature(sandbox_defaults.WHATSAPP_APP_SECRET, p.raw) for p in posts
    )
    first, second = (json.loads(p.raw)["entry"][0]["changes"][0]["value"] for p in posts)
    assert first["messages"][0]["interactive"]["button_reply"] == {"id": "shop", "title": "Shop"}
    assert first["contacts"][0]["wa_id"] == "2348000000009"
    image = second["messages"][0]["image"]
    assert (image["id"], image["caption"], image["mime_type"]) == (
        "sandbox-media-sample-png",
        "Q4",
        "image/png",
    )
