"""Every admin route over HTTP against a real PostgreSQL: what it returns, what it changes,
what it tells students and tutors, and that each write lands in the audit log."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from conversation.models import FloodBucket
from shared.events import NotificationKind
from shared.testing import running_app
from tests.conversation.conftest import World

AUTH = {"Authorization": "Bearer dev-admin-token", "X-Admin-Actor": "ops@desk"}


@pytest.fixture
async def api(world: World) -> AsyncIterator[httpx.AsyncClient]:
    async with (
        running_app(world.service.app) as url,
        httpx.AsyncClient(base_url=url, headers=AUTH) as client,
    ):
        yield client


async def test_every_admin_route_refuses_a_request_without_the_token(world: World) -> None:
    async with running_app(world.service.app) as url, httpx.AsyncClient(base_url=url) as client:
        paths = (await client.get("/openapi.json")).json()["paths"]
    routes = [
        (method.upper(), path)
        for path, operations in paths.items()
        if path.startswith("/api/")
        for method in operations
    ]
    assert len(routes) >= 30
    async with running_app(world.service.app) as url, httpx.AsyncClient(base_url=url) as client:
        for method, path in routes:
            concrete = path.replace("{", "").replace("}", "")
            response = await client.request(method, concrete, json={})
            assert response.status_code == 401, (method, path, response.status_code)
            wrong = await client.request(
                method, concrete, json={}, headers={"Authorization": "Bearer wrong"}
            )
            assert wrong.status_code == 401, (method, path)


async def test_openapi_documents_every_route_with_examples(api: httpx.AsyncClient) -> None:
    schema = (await api.get("/openapi.json")).json()
    assert {
        "/api/students",
        "/api/students/{student_id}",
        "/api/homework",
        "/api/homework/{homework_id}",
    } <= set(schema["paths"])
    assert schema["components"]["schemas"]["StudentIn"]["examples"][0]["name"] == "Ada Obi"
    assert "examples" in schema["components"]["schemas"]["HomeworkIn"]


async def test_students_create_get_search_export_and_erase(
    world: World, api: httpx.AsyncClient
) -> None:
    phone = world.phone()
    body = {
        "phone_number": phone.number,
        "name": "Ada Obi",
        "level": "SSS",
        "email": "Ada@Example.com",
    }
    created = await api.post("/api/students", json=body)
    assert created.status_code == 201
    student = created.json()
    assert student["email"] == "ada@example.com"
    assert (await api.post("/api/students", json=body)).status_code == 409
    bad = await api.post("/api/students", json={**body, "email": "nope", "phone_number": "+1"})
    assert bad.status_code == 422
    got = await api.get(f"/api/students/{student['id']}")
    assert got.json()["name"] == "Ada Obi"
    found = await api.get("/api/students", params={"phone": phone.number[-7:], "limit": 5})
    assert [s["id"] for s in found.json()["items"]] == [student["id"]]
    assert found.json()["limit"] == 5

    # The student chats: the export must show it.
    await phone.say("hi")
    await phone.say("3")
    await phone.say("My pack never came")
    export = (await api.get(f"/api/students/{student['id']}/export")).json()
    assert export["student"]["phone_number"] == phone.number
    assert export["tickets"][0]["description"] == "My pack never came"
    assert export["support_messages"][0]["text"] == "My pack never came"
    assert export["lead"]["message_count"] == 3
    assert export["conversation"]["state"] == "support.chatting"
    assert export["flood_bucket"]["phone_number"] == phone.number

    erased = await api.delete(f"/api/students/{student['id']}")
    assert erased.status_code == 204
    assert (await api.get(f"/api/students/{student['id']}")).status_code == 404
    assert (await api.get(f"/api/leads/{phone.number}")).status_code == 404
    tickets = (await api.get("/api/tickets", params={"limit": 200})).json()["items"]
    assert phone.number not in {t["phone_number"] for t in tickets}
    async with world.service.sessions() as session:
        assert await session.get(FloodBucket, phone.number) is None
    log = (await api.get("/api/audit", params={"resource": "student"})).json()["items"]
    assert [(e["action"], e["actor"]) for e in log[:2]] == [
        ("erase", "ops@desk"),
        ("create", "ops@desk"),
    ]
    assert log[0]["before"] == {"id": student["id"]}
    assert log[1]["after"]["name"] == "Ada Obi"


async def test_tutors_homework_assignment_and_solution(
    world: World, api: httpx.AsyncClient
) -> None:
    student, tutor_phone, other_phone = world.phone(), world.phone(), world.phone()
    await api.post(
        "/api/students",
        json={
            "phone_number": student.number,
            "name": "Bola Ade",
            "level": "JSS",
            "email": "bola@example.com",
        },
    )
    tutor = (
        await api.post(
            "/api/tutors",
            json={
                "phone_number": tutor_phone.number,
                "name": "Tola Bello",
                "subjects": ["Biology"],
            },
        )
    ).json()
    other = (
        await api.post(
            "/api/tutors",
            json={"phone_number": other_phone.number, "name": "Kemi Ojo", "subjects": ["Biology"]},
        )
    ).json()
    assert tutor["active"] is True
    listed = (await api.get("/api/tutors", params={"active": True})).json()
    assert {tutor["id"], other["id"]} <= {t["id"] for t in listed["items"]}
    assert (await api.get(f"/api/tutors/{tutor['id']}")).json()["name"] == "Tola Bello"

    unknown = await api.post(
        "/api/homework",
        json={"phone_number": "+2348000000999", "subject": "Biology", "question": "What?"},
    )
    assert unknown.status_code == 422
    created = await api.post(
        "/api/homework",
        json={
            "phone_number": student.number,
            "subject": "Biology",
            "question": "Name the parts of a cell",
        },
    )
    assert created.status_code == 201
    homework = created.json()
    assert homework["status"] == "assigned"
    await world.handled_nothing_pending()
    first = next(p for p in (tutor_phone, other_phone) if p.replies())
    assert "Name the parts of a cell" in first.last().text
    assert first.last().kind is NotificationKind.HOMEWORK_ASSIGNED

    by_ref = await api.get(f"/api/homework/{homework['reference']}")
    by_id = await api.get(f"/api/homework/{homework['id']}")
    assert by_ref.json() == by_id.json()
    assert (await api.get("/api/homework/HW-NOPE")).status_code == 404
    assigned = (await api.get("/api/homework", params={"status": "assigned"})).json()
    assert homework["id"] in {h["id"] for h in assigned["items"]}

    chosen = tutor if first is other_phone else other
    chosen_phone = tutor_phone if first is other_phone else other_phone
    moved = await api.post(
        f"/api/homework/{homework['id']}/assign", json={"tutor_id": chosen["id"]}
    )
    assert moved.status_code == 200
    await world.handled_nothing_pending()
    assert "Name the parts of a cell" in chosen_phone.last().text
    work = (await api.get(f"/api/tutors/{chosen['id']}/work")).json()
    assert [(w["homework_reference"], w["status"]) for w in work] == [
        (homework["reference"], "offered")
    ]

    paused = await api.patch(f"/api/tutors/{tutor['id']}", json={"active": False})
    assert paused.json()["active"] is False

    solved = await api.post(
        f"/api/homework/{homework['id']}/solution", json={"text": "Nucleus, membrane, cytoplasm"}
    )
    assert solved.json()["status"] == "solved"
    await world.handled_nothing_pending()
    assert "Nucleus, membrane, cytoplasm" in student.last().text
    assert student.last().kind is NotificationKind.SOLUTION_READY
    again = await api.post(f"/api/homework/{homework['id']}/solution", json={"text": "again"})
    assert again.status_code == 409
    actions = [
        (e["resource"], e["action"])
        for e in (await api.get("/api/audit", params={"limit": 200})).json()["items"]
    ]
    for entry in [
        ("homework", "create"),
        ("homework", "assign"),
        ("homework", "solve"),
        ("tutor", "create"),
        ("tutor", "update"),
    ]:
        assert entry in actions


async def test_agents_tickets_reply_and_close(world: World, api: httpx.AsyncClient) -> None:
    student, agent_phone = world.phone(), world.phone()
    agent = (
        await api.post("/api/agents", json={"phone_number": agent_phone.number, "name": "Grace"})
    ).json()
    assert agent["on_duty"] is True
    assert agent["id"] in {a["id"] for a in (await api.get("/api/agents")).json()["items"]}
    await student.say("hi")
    await student.say("3")
    opened = await student.say("Wrong pack delivered")
    reference = next(w.strip(".") for w in opened.split() if w.startswith("TCK-"))
    open_list = (await api.get("/api/tickets", params={"status": "open"})).json()["items"]
    assert reference in {t["reference"] for t in open_list}
    replied = await api.post(
        f"/api/tickets/{reference}/reply", json={"text": "Sorry! Sending the right one."}
    )
    assert replied.json()["messages"][-1] == {**replied.json()["messages"][-1], "sender": "admin"}
    await world.handled_nothing_pending()
    assert student.last().text == "Support: Sorry! Sending the right one."
    detail = (await api.get(f"/api/tickets/{reference}")).json()
    assert [m["sender"] for m in detail["messages"]] == ["student", "admin"]
    closed = await api.post(f"/api/tickets/{reference}/close")
    assert closed.json()["status"] == "closed"
    await world.handled_nothing_pending()
    assert f"Support closed ticket {reference}" in student.last().text
    assert (await api.post(f"/api/tickets/{reference}/close")).status_code == 409
    off = await api.patch(f"/api/agents/{agent['id']}", json={"on_duty": False})
    assert off.json()["on_duty"] is False


async def test_leads_faq_products_orders_and_settings(world: World, api: httpx.AsyncClient) -> None:
    lead = world.phone()
    await lead.say("hello")
    leads = (await api.get("/api/leads", params={"unregistered": True, "limit": 200})).json()
    assert lead.number in {item["phone_number"] for item in leads["items"]}
    assert (await api.get(f"/api/leads/{lead.number}")).json()["message_count"] == 1

    entry = (
        await api.post(
            "/api/faq", json={"topic": "Refunds?", "answer": "Within 7 days.", "position": 0}
        )
    ).json()
    await lead.say("5")
    assert lead.last().options[0].title == "Refunds?"
    await api.patch(f"/api/faq/{entry['id']}", json={"answer": "Within 14 days."})
    assert "Within 14 days." in await lead.say("1")
    assert (await api.delete(f"/api/faq/{entry['id']}")).status_code == 204
    topics = [f["topic"] for f in (await api.get("/api/faq")).json()["items"]]
    assert "Refunds?" not in topics

    sku = f"TEST-{uuid.uuid4().hex[:6].upper()}"
    product = await api.post(
        "/api/products", json={"sku": sku, "name": "Test Biology", "price_minor": 450000}
    )
    assert product.status_code == 201
    assert (await api.post("/api/products", json=product.json())).status_code == 409
    edited = await api.patch(f"/api/products/{sku}", json={"price_minor": 460000})
    assert edited.json()["price_minor"] == 460000
    skus = [
        p["sku"] for p in (await api.get("/api/products", params={"limit": 200})).json()["items"]
    ]
    assert sku in skus
    hidden = await api.patch(f"/api/products/{sku}", json={"active": False})
    assert hidden.json()["active"] is False

    for text in ("menu", "1 x 1", "place order", "yes"):
        await lead.say(text)
    orders = (await api.get("/api/orders", params={"phone": lead.number})).json()
    assert orders["total"] == 1
    assert (await api.get(f"/api/orders/{orders['items'][0]['reference']}")).status_code == 200

    settings = {s["key"]: s for s in (await api.get("/api/settings")).json()["items"]}
    assert settings["free_credits"] == {**settings["free_credits"], "value": 3, "overridden": False}
    assert (await api.put("/api/settings/free_credits", json={"value": "lots"})).status_code == 422
    assert (await api.put("/api/settings/nonsense", json={"value": 1})).status_code == 404
    renamed = await api.put("/api/settings/business_name", json={"value": "Star Tutors"})
    assert renamed.json()["overridden"] is True
    assert "Star Tutors" in await lead.say("menu")
    log = (await api.get("/api/audit", params={"resource": "setting"})).json()["items"]
    assert log[0]["before"] == {"value": "Bright Path Tutors"}
    assert log[0]["after"] == {"value": "Star Tutors"}
