"""Submitting homework, typed or as a photo, for a tutor to solve.

  homework.subject   subject list                         a subject -> question
  homework.question  "Type the question or send a photo"  text -> note; a photo -> checking
  homework.checking  "Checking your photo…"               the notifier's verdict: accepted ->
                                                          note; refused -> the reason, and
                                                          question again; text -> still checking
  homework.note      "Add a note, or SKIP"                text or SKIP -> confirm
  homework.confirm   summary and what pays for it         YES submits it with a reference
                                                          (SubmitHomework); NO -> menu
  homework.rating    set when a solution arrives          1-5 -> RateHomework -> menu

Entry needs a profile (else registration first) and an active subscription or free credits
(else the way to subscribe).
"""

from __future__ import annotations

from typing import Any

from conversation import copy, intents
from conversation.effects import FetchMedia, RateHomework, SubmitHomework
from conversation.engine import (
    MENU,
    Context,
    Conversation,
    Input,
    MediaHandler,
    MediaResult,
    Reply,
    StateHandler,
    Turn,
    main_menu,
    not_understood,
    respond,
)
from shared.events import MediaRef, Option

FLOW = "homework"
SUBJECT = "homework.subject"
QUESTION = "homework.question"
CHECKING = "homework.checking"
NOTE = "homework.note"
CONFIRM = "homework.confirm"
RATING = "homework.rating"

SKIP_OPTIONS = (Option(id="skip", title="No note, continue"),)
CONFIRM_OPTIONS = (
    Option(id="yes", title="Yes, submit"),
    Option(id="no", title="No, cancel"),
)
RATING_OPTIONS = tuple(
    Option(id=f"rate:{n}", title="⭐" * n, description=f"{n} out of 5") for n in range(1, 6)
)


def _subjects(ctx: Context) -> tuple[Option, ...]:
    return tuple(Option(id=subject.lower(), title=subject) for subject in ctx.subjects)


def _data(conversation: Conversation, **more: Any) -> dict[str, Any]:
    kept = {k: v for k, v in conversation.data.items() if k not in ("offered", "options")}
    return {**kept, **more}


def paid_with(ctx: Context) -> str | None:
    if ctx.subscription is not None and ctx.subscription.covers(ctx.now):
        return "subscription"
    if ctx.free_credits_left > 0:
        return "free_credit"
    return None


def start(conversation: Conversation, ctx: Context) -> Turn:
    from conversation.flows import registration

    if ctx.profile is None:
        return registration.start(conversation, ctx, then="homework")
    if paid_with(ctx) is None:
        return respond(conversation, MENU, Reply(copy.NO_CREDITS, copy.NO_CREDITS_OPTIONS))
    return respond(
        conversation,
        SUBJECT,
        Reply(copy.HOMEWORK_SUBJECT, _subjects(ctx)),
        flow_started=FLOW,
    )


def choosing_subject(conversation: Conversation, message: Input, ctx: Context) -> Turn:
    by_id = {subject.lower(): subject for subject in ctx.subjects}
    subject = by_id.get(message.choice or "") or by_id.get(intents.normalise(message.text))
    if subject is None:
        return not_understood(
            respond(conversation, SUBJECT, Reply(copy.HOMEWORK_SUBJECT_AGAIN, _subjects(ctx)))
        )
    return respond(
        conversation, QUESTION, Reply(copy.homework_question(subject)), data={"subject": subject}
    )


def asking_question(conversation: Conversation, message: Input, ctx: Context) -> Turn:
    if message.media:
        return respond(
            conversation,
            CHECKING,
            Reply(copy.CHECKING_PHOTO),
            data=_data(conversation, caption=message.text.strip()),
            effects=(FetchMedia(message.media[0]),),
        )
    question = message.text.strip()
    if len(question) < 3:
        return not_understood(
            respond(
                conversation,
                QUESTION,
                Reply(copy.homework_question(conversation.data["subject"])),
                data=_data(conversation),
            )
        )
    return _ask_note(conversation, _data(conversation, question=question[:4000]))


def _ask_note(conversation: Conversation, data: dict[str, Any]) -> Turn:
    return respond(conversation, NOTE, Reply(copy.HOMEWORK_NOTE, SKIP_OPTIONS), data=data)


def checking(conversation: Conversation, message: Input, ctx: Context) -> Turn:
    return respond(conversation, CHECKING, Reply(copy.STILL_CHECKING), data=_data(conversation))


def photo_checked(conversation: Conversation, result: MediaResult, ctx: Context) -> Turn:
    if result.stored is None:
        reason = copy.photo_refused(result.rejection)
        return respond(conversation, QUESTION, Reply(reason), data=_data(conversation))
    data = _data(conversation, photo=result.stored.model_dump(mode="json"))
    caption = str(data.pop("caption", "") or "")
    data["question"] = caption
    return respond(
        conversation,
        NOTE,
        Reply(copy.PHOTO_ACCEPTED + "\n\n" + copy.HOMEWORK_NOTE, SKIP_OPTIONS),
        data=data,
    )


def adding_note(conversation: Conversation, message: Input, ctx: Context) -> Turn:
    skipped = message.choice == "skip" or message.word in (intents.Word.SKIP, intents.Word.NO)
    note = "" if skipped else message.text.strip()[:1000]
    data = _data(conversation, note=note)
    return respond(conversation, CONFIRM, Reply(_summary(data, ctx), CONFIRM_OPTIONS), data=data)


def _summary(data: dict[str, Any], ctx: Context) -> str:
    how = paid_with(ctx)
    if how == "subscription" and ctx.subscription is not None:
        paying = copy.covered_by_plan(ctx.subscription.plan_name, ctx.subscription.credits_left)
    else:
        paying = copy.uses_free_credit(ctx.free_credits_left)
    return copy.homework_summary(
        data["subject"],
        str(data.get("question", "")),
        bool(data.get("photo")),
        str(data.get("note", "")),
        paying,
    )


def confirming(conversation: Conversation, message: Input, ctx: Context) -> Turn:
    data = dict(conversation.data)
    if message.choice == "yes" or message.word is intents.Word.YES:
        how = paid_with(ctx)
        if how is None:
            return respond(conversation, MENU, Reply(copy.NO_CREDITS, copy.NO_CREDITS_OPTIONS))
        photo = MediaRef.model_validate(data["photo"]) if data.get("photo") else None
        reference = ctx.new_homework_reference
        left = (
            ctx.subscription.credits_left
            if how == "subscription" and ctx.subscription is not None
            else ctx.free_credits_left
        )
        remaining = None if left is None else left - 1
        return respond(
            conversation,
            MENU,
            Reply(copy.homework_submitted(reference, how, remaining), copy.MENU_OPTIONS),
            effects=(
                SubmitHomework(
                    reference=reference,
                    subject=data["subject"],
                    question=str(data.get("question", "")),
                    note=str(data.get("note", "")),
                    photo=photo,
                    paid_with=how,
                ),
            ),
            flow_completed=FLOW,
        )
    if message.choice == "no" or message.word is intents.Word.NO:
        return main_menu(conversation, ctx, copy.HOMEWORK_CANCELLED)
    return not_understood(
        respond(
            conversation,
            CONFIRM,
            Reply(_summary(data, ctx), CONFIRM_OPTIONS),
            data=_data(conversation),
        )
    )


def rating(conversation: Conversation, message: Input, ctx: Context) -> Turn:
    stars: int | None = None
    if message.choice and message.choice.startswith("rate:"):
        stars = int(message.choice.removeprefix("rate:"))
    else:
        stars = intents.rating(message.text)
    reference = str(conversation.data.get("homework", ""))
    if stars is None:
        from conversation.flows import menu

        # Not a rating: treat it as a fresh message from the menu.
        return menu.in_menu(conversation, message, ctx)
    return respond(
        conversation,
        MENU,
        Reply(copy.thanks_for_rating(stars), copy.MENU_OPTIONS),
        effects=(RateHomework(reference, stars),),
    )


STATES: dict[str, StateHandler] = {
    SUBJECT: choosing_subject,
    QUESTION: asking_question,
    CHECKING: checking,
    NOTE: adding_note,
    CONFIRM: confirming,
    RATING: rating,
}
MEDIA: dict[str, MediaHandler] = {CHECKING: photo_checked}
