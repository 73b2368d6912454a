"""Frequently asked questions: topics, then the answer, then back.

faq.topics  topic list (from the faq table)   a topic -> its answer
faq.answer  the answer; Back to topics / Menu  back to topics, or the menu
"""

from __future__ import annotations

from conversation import copy
from conversation.engine import (
    Context,
    Conversation,
    Input,
    Reply,
    StateHandler,
    Turn,
    main_menu,
    not_understood,
    respond,
)
from shared.events import Option

FLOW = "faq"
TOPICS = "faq.topics"
ANSWER = "faq.answer"

ANSWER_OPTIONS = (Option(id="topics", title="Back to topics"), Option(id="menu", title="Main menu"))


def _topics(ctx: Context) -> tuple[Option, ...]:
    return tuple(Option(id=f"faq:{i}", title=item.topic) for i, item in enumerate(ctx.faq, 1))


def topics(conversation: Conversation, ctx: Context, *, started: bool = False) -> Turn:
    if not ctx.faq:
        return main_menu(conversation, ctx, copy.NO_FAQ)
    return respond(
        conversation,
        TOPICS,
        Reply(copy.FAQ_TOPICS, _topics(ctx)),
        flow_started=FLOW if started else None,
    )


def choosing_topic(conversation: Conversation, message: Input, ctx: Context) -> Turn:
    index = 0
    if message.choice and message.choice.startswith("faq:"):
        index = int(message.choice.removeprefix("faq:"))
    if not 1 <= index <= len(ctx.faq):
        return not_understood(
            respond(conversation, TOPICS, Reply(copy.FAQ_TOPICS_AGAIN, _topics(ctx)))
        )
    item = ctx.faq[index - 1]
    return respond(
        conversation,
        ANSWER,
        Reply(f"*{item.topic}*\n{item.answer}", ANSWER_OPTIONS),
        flow_completed=FLOW,
    )


def reading(conversation: Conversation, message: Input, ctx: Context) -> Turn:
    if message.choice == "topics":
        return topics(conversation, ctx)
    if message.choice == "menu":
        return main_menu(conversation, ctx)
    return not_understood(
        respond(conversation, ANSWER, Reply(copy.FAQ_ANSWER_HINT, ANSWER_OPTIONS))
    )


STATES: dict[str, StateHandler] = {TOPICS: choosing_topic, ANSWER: reading}
