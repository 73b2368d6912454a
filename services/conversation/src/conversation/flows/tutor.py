"""The tutor's desk, for a number registered as a tutor.

tutor.menu       open work listed (offered / accepted)   a work item: accept it (if offered)
                                                         and answer; ACCEPT takes the oldest
                                                         offered; WORK lists again
tutor.answering  "Send the solution as text or a photo"  text -> SendSolution -> menu;
                                                         a photo -> checking
tutor.checking   "Checking your photo…"                  accepted -> SendSolution -> menu;
                                                         refused -> the reason, answering
"""

from __future__ import annotations

from conversation import copy, intents
from conversation.effects import AcceptWork, FetchMedia, SendSolution
from conversation.engine import (
    TUTOR_MENU,
    Context,
    Conversation,
    Input,
    MediaHandler,
    MediaResult,
    Reply,
    StateHandler,
    Turn,
    WorkItem,
    not_understood,
    respond,
)
from shared.events import Option

ANSWERING = "tutor.answering"
CHECKING = "tutor.checking"


def _work_options(ctx: Context) -> tuple[Option, ...]:
    return tuple(
        Option(
            id=f"work:{item.reference}",
            title=f"{item.reference} {item.subject}"[:24],
            description=copy.work_status(item.status),
        )
        for item in ctx.work[:10]
    )


def home(conversation: Conversation, ctx: Context, note: str | None = None) -> Turn:
    text = copy.tutor_home(len(ctx.work))
    if note:
        text = f"{note}\n\n{text}"
    return respond(conversation, TUTOR_MENU, Reply(text, _work_options(ctx)))


def _find(ctx: Context, reference: str) -> WorkItem | None:
    return next((item for item in ctx.work if item.reference == reference), None)


def _answer(conversation: Conversation, item: WorkItem, accept: bool) -> Turn:
    text = copy.tutor_answer(item.reference, item.subject, item.question, accepted_now=accept)
    return respond(
        conversation,
        ANSWERING,
        Reply(text),
        data={"homework": item.reference},
        effects=(AcceptWork(item.reference),) if accept else (),
    )


def at_desk(conversation: Conversation, message: Input, ctx: Context) -> Turn:
    item: WorkItem | None = None
    if message.choice and message.choice.startswith("work:"):
        item = _find(ctx, message.choice.removeprefix("work:"))
    elif message.word is intents.Word.ACCEPT:
        item = next((w for w in ctx.work if w.status == "offered"), None)
        if item is None:
            return home(conversation, ctx, copy.NOTHING_TO_ACCEPT)
    else:
        words = intents.normalise(message.text).split()
        number = intents.number(message.text)
        if number is not None and 1 <= number <= len(ctx.work):
            item = ctx.work[number - 1]
        elif len(words) in (2, 3) and words[0] in ("accept", "answer"):
            reference = "-".join(words[1:]).upper()
            item = _find(ctx, reference)
            if item is None:
                return home(conversation, ctx, copy.work_gone(reference))
    if item is not None:
        return _answer(conversation, item, accept=item.status == "offered")
    if message.word is intents.Word.WORK:
        return home(conversation, ctx)
    return not_understood(home(conversation, ctx, copy.TUTOR_HINT))


def answering(conversation: Conversation, message: Input, ctx: Context) -> Turn:
    reference = str(conversation.data.get("homework", ""))
    if _find(ctx, reference) is None:
        return home(conversation, ctx, copy.work_gone(reference))
    if message.word is intents.Word.WORK and not message.media:
        return home(conversation, ctx)
    if message.media:
        return respond(
            conversation,
            CHECKING,
            Reply(copy.CHECKING_PHOTO),
            data={"homework": reference, "caption": message.text.strip()},
            effects=(FetchMedia(message.media[0]),),
        )
    text = message.text.strip()
    if not text:
        return respond(
            conversation, ANSWERING, Reply(copy.TUTOR_SEND_SOLUTION), data={"homework": reference}
        )
    after = home(conversation, _without(ctx, reference), copy.solution_sent(reference))
    return respond(
        conversation,
        after.state,
        *after.replies,
        effects=(SendSolution(reference, text[:4000]),),
    )


def checking(conversation: Conversation, message: Input, ctx: Context) -> Turn:
    return respond(conversation, CHECKING, Reply(copy.STILL_CHECKING), data=conversation.data)


def photo_checked(conversation: Conversation, result: MediaResult, ctx: Context) -> Turn:
    reference = str(conversation.data.get("homework", ""))
    if result.stored is None:
        return respond(
            conversation,
            ANSWERING,
            Reply(copy.photo_refused(result.rejection)),
            data={"homework": reference},
        )
    caption = str(conversation.data.get("caption", ""))
    after = home(conversation, _without(ctx, reference), copy.solution_sent(reference))
    return respond(
        conversation,
        after.state,
        *after.replies,
        effects=(SendSolution(reference, caption, result.stored),),
    )


def _without(ctx: Context, reference: str) -> Context:
    from dataclasses import replace

    return replace(ctx, work=tuple(w for w in ctx.work if w.reference != reference))


STATES: dict[str, StateHandler] = {
    TUTOR_MENU: at_desk,
    ANSWERING: answering,
    CHECKING: checking,
}
MEDIA: dict[str, MediaHandler] = {CHECKING: photo_checked}
