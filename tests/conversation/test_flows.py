"""The tutoring flows on the pure engine: state + input -> state, replies, effects. No I/O."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from conversation import effects, engine
from conversation.engine import (
    Context,
    Conversation,
    MediaResult,
    Profile,
    SubscriptionView,
    TicketItem,
    WorkItem,
)
from conversation.flows import homework, registration, support, tutor
from shared.events import MediaRef, MediaRejection

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
PROFILE = Profile("Ada Obi", "SSS", "ada@example.com")
PHOTO = MediaRef(url="https://media.example/ME1", content_type="image/png")


def ctx(**changes: object) -> Context:
    base = Context(NOW, (), "Bright Path Tutors", "NGN", "ORD-TEST0001", free_credits_left=3)
    return replace(base, **changes)  # type: ignore[arg-type]


def play(
    *texts: str, context: Context | None = None, start: Conversation | None = None
) -> tuple[Conversation, engine.Turn]:
    context = context or ctx()
    conversation = start or Conversation(last_active=NOW)
    turn: engine.Turn | None = None
    for text in texts:
        turn = engine.remember_offered(engine.handle(conversation, text, context))
        conversation = Conversation(turn.state, turn.data, NOW, turn.cart)
    assert turn is not None
    return conversation, turn


def test_homework_without_a_profile_asks_for_registration_and_carries_on_after() -> None:
    _, turn = play("menu", "2")
    assert turn.state == registration.NAME
    _, turn = play("menu", "2", "Ada Obi", "sss", "ADA@example.com", "yes")
    assert turn.state == homework.SUBJECT
    assert turn.effects == (effects.SaveProfile("Ada Obi", "SSS", "ada@example.com"),)
    assert turn.replies[0].text.startswith("✅ You're registered, Ada")


def test_a_bad_email_is_asked_again_and_not_saved() -> None:
    _, turn = play("menu", "2", "Ada Obi", "2", "ada at example")
    assert turn.state == registration.EMAIL
    assert not turn.understood
    assert turn.effects == ()


def test_no_at_the_registration_summary_starts_again_with_the_name() -> None:
    _, turn = play("menu", "6", "Ada", "1", "ada@example.com", "no")
    assert turn.state == registration.NAME
    assert turn.data["then"] == "pay"


def test_typed_homework_on_a_subscription_says_so_and_submits() -> None:
    covered = ctx(
        profile=PROFILE, subscription=SubscriptionView("Monthly", "active", NOW + timedelta(days=3))
    )
    _, turn = play("menu", "2", "2", "Define a noun", "skip", context=covered)
    assert "Covered by your Monthly subscription." in turn.replies[0].text
    _, turn = play("menu", "2", "2", "Define a noun", "skip", "y", context=covered)
    (submit,) = turn.effects
    assert isinstance(submit, effects.SubmitHomework)
    assert (submit.subject, submit.question, submit.paid_with) == (
        "English",
        "Define a noun",
        "subscription",
    )
    assert submit.reference == "HW-TEST"


def test_an_expired_subscription_falls_back_to_free_credits() -> None:
    lapsed = ctx(
        profile=PROFILE,
        free_credits_left=1,
        subscription=SubscriptionView("Monthly", "active", NOW - timedelta(days=1)),
    )
    _, turn = play("menu", "2", "1", "2+2?", "skip", "yes", context=lapsed)
    assert turn.effects[0].paid_with == "free_credit"  # type: ignore[union-attr]
    assert "1 free credit used, 0 left" in turn.replies[0].text


def test_a_photo_is_checked_before_the_flow_goes_on() -> None:
    context = ctx(profile=PROFILE)
    conversation, _ = play("menu", "2", "1", context=context)
    turn = engine.handle(conversation, "q3", context, media=(PHOTO,))
    assert turn.state == homework.CHECKING
    assert turn.effects == (effects.FetchMedia(PHOTO),)
    waiting = Conversation(turn.state, turn.data, NOW)
    assert "Still checking" in engine.handle(waiting, "??", context).replies[0].text
    refused = engine.media_arrived(waiting, MediaResult(None, MediaRejection.TOO_LARGE), context)
    assert refused is not None and refused.state == homework.QUESTION
    assert "larger than 5 MB" in refused.replies[0].text
    stored = MediaRef(sha256="ab" * 32, content_type="image/png")
    accepted = engine.media_arrived(waiting, MediaResult(stored), context)
    assert accepted is not None and accepted.state == homework.NOTE
    assert accepted.data["photo"]["sha256"] == "ab" * 32
    assert accepted.data["question"] == "q3"


def test_a_photo_verdict_for_a_conversation_that_moved_on_is_ignored() -> None:
    assert engine.media_arrived(Conversation(last_active=NOW), MediaResult(None), ctx()) is None


def test_a_tutor_accepts_the_oldest_offer_and_answers_it() -> None:
    work = (
        WorkItem("HW-A", "Physics", "Why is the sky blue?", "offered"),
        WorkItem("HW-B", "Physics", "What is g?", "offered"),
    )
    context = ctx(role="tutor", work=work)
    conversation, turn = play("accept", context=context, start=Conversation())
    assert turn.effects == (effects.AcceptWork("HW-A"),)
    assert turn.state == tutor.ANSWERING
    _, turn = play("Rayleigh scattering", context=context, start=conversation)
    assert turn.effects == (effects.SendSolution("HW-A", "Rayleigh scattering"),)
    assert turn.state == engine.TUTOR_MENU
    assert "1 open homework" in turn.replies[0].text


def test_a_tutor_without_offers_is_told_so() -> None:
    _, turn = play("accept", context=ctx(role="tutor"), start=Conversation())
    assert "no homework waiting" in turn.replies[0].text


def test_an_agent_picks_a_ticket_relays_lines_and_ends_it() -> None:
    tickets = (TicketItem("TCK-1", "No pack", "open"),)
    context = ctx(role="agent", tickets=tickets)
    conversation, turn = play("hi", "1", context=context, start=Conversation())
    assert turn.effects == (effects.PickTicket("TCK-1"),)
    conversation, turn = play("Resending", context=context, start=conversation)
    assert turn.replies == () and turn.effects == (effects.MessageStudent("TCK-1", "Resending"),)
    _, turn = play("END", context=context, start=conversation)
    assert turn.effects == (effects.CloseTicket("TCK-1", by="agent"),)


def test_student_support_lines_go_to_the_agent_and_end_closes() -> None:
    conversation, turn = play("menu", "3", "Refund please", context=ctx())
    assert turn.effects == (effects.OpenTicket("TCK-TEST", "Refund please"),)
    open_ticket = ctx(open_ticket=TicketItem("TCK-TEST", "Refund please", "open", "+234"))
    _, turn = play("thanks", context=open_ticket, start=conversation)
    assert turn.effects == (effects.MessageAgent("TCK-TEST", "thanks"),)
    assert turn.state == support.CHATTING
    _, turn = play("end", context=open_ticket, start=conversation)
    assert turn.effects == (effects.CloseTicket("TCK-TEST", by="student"),)


def test_stop_and_start_change_the_contact_preference_anywhere() -> None:
    _, turn = play("menu", "5", "STOP")
    assert turn.effects == (effects.ChangeContactPreference(opted_out=True),)
    assert "no more messages" in turn.replies[0].text
    _, turn = play("start")
    assert turn.effects == (effects.ChangeContactPreference(opted_out=False),)
    assert turn.replies[0].text.startswith("Welcome back!")


def test_an_unsupported_message_keeps_the_state_and_repeats_the_options() -> None:
    conversation, _ = play("menu", "5", context=ctx(faq=(engine.FaqItem("Cost?", "Free"),)))
    turn = engine.handle(conversation, "", ctx(), unsupported="sticker")
    assert turn.state == conversation.state
    assert [o.title for o in turn.replies[0].options] == ["Cost?"]


def test_a_rating_after_a_solution_is_recorded_and_other_text_falls_back_to_the_menu() -> None:
    waiting = Conversation(
        homework.RATING,
        {"homework": "HW-A", "offered": ["rate:1", "rate:2", "rate:3", "rate:4", "rate:5"]},
        NOW,
    )
    turn = engine.handle(waiting, "4", ctx())
    assert turn.effects == (effects.RateHomework("HW-A", 4),)
    turn = engine.handle(waiting, "", ctx(), selected="rate:2")
    assert turn.effects == (effects.RateHomework("HW-A", 2),)
    turn = engine.handle(waiting, "what now", ctx())
    assert turn.effects == () and turn.state == engine.MENU
