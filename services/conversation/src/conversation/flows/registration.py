"""Registration, asked the first time a flow needs a profile (homework, paying).

registration.name     "What is your full name?"           any 2-100 letters -> level
registration.level    level list (Primary, JSS, SSS ...)   a listed level -> email
registration.email    "Your email (for receipts)?"         a valid address -> confirm
registration.confirm  summary, Yes / Start again           YES saves the profile and
                                                           carries on with the flow that
                                                           needed it; NO starts again
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from conversation import copy, intents
from conversation.effects import SaveProfile
from conversation.engine import (
    Context,
    Conversation,
    Input,
    Profile,
    Reply,
    StateHandler,
    Turn,
    not_understood,
    respond,
)
from shared.events import Option

FLOW = "registration"
NAME = "registration.name"
LEVEL = "registration.level"
EMAIL = "registration.email"
CONFIRM = "registration.confirm"

CONFIRM_OPTIONS = (
    Option(id="yes", title="Yes, that's right"),
    Option(id="no", title="No, start again"),
)


def _levels(ctx: Context) -> tuple[Option, ...]:
    return tuple(Option(id=level.lower(), title=level) for level in ctx.levels)


def start(conversation: Conversation, ctx: Context, then: str) -> Turn:
    """Ask for the name; ``then`` is the flow to carry on with once registered."""
    return respond(
        conversation,
        NAME,
        Reply(copy.REGISTER_NAME),
        data={"then": then},
        flow_started=FLOW,
    )


def _data(conversation: Conversation, **more: Any) -> dict[str, Any]:
    kept = {k: v for k, v in conversation.data.items() if k not in ("offered", "options")}
    return {**kept, **more}


def naming(conversation: Conversation, message: Input, ctx: Context) -> Turn:
    name = " ".join(message.text.split())
    if not 2 <= len(name) <= 100 or not any(ch.isalpha() for ch in name):
        return not_understood(
            respond(conversation, NAME, Reply(copy.REGISTER_NAME_AGAIN), data=_data(conversation))
        )
    return respond(
        conversation,
        LEVEL,
        Reply(copy.register_level(name.split()[0]), _levels(ctx)),
        data=_data(conversation, name=name),
    )


def choosing_level(conversation: Conversation, message: Input, ctx: Context) -> Turn:
    by_id = {level.lower(): level for level in ctx.levels}
    level = by_id.get(message.choice or "") or by_id.get(intents.normalise(message.text))
    if level is None:
        return not_understood(
            respond(
                conversation,
                LEVEL,
                Reply(copy.REGISTER_LEVEL_AGAIN, _levels(ctx)),
                data=_data(conversation),
            )
        )
    return respond(
        conversation, EMAIL, Reply(copy.REGISTER_EMAIL), data=_data(conversation, level=level)
    )


def giving_email(conversation: Conversation, message: Input, ctx: Context) -> Turn:
    email = intents.email(message.text)
    if email is None:
        return not_understood(
            respond(conversation, EMAIL, Reply(copy.REGISTER_EMAIL_AGAIN), data=_data(conversation))
        )
    data = _data(conversation, email=email)
    text = copy.register_summary(data["name"], data["level"], email)
    return respond(conversation, CONFIRM, Reply(text, CONFIRM_OPTIONS), data=data)


def confirming(conversation: Conversation, message: Input, ctx: Context) -> Turn:
    data = conversation.data
    if message.choice == "yes" or message.word is intents.Word.YES:
        profile = Profile(data["name"], data["level"], data["email"])
        after = _carry_on(conversation, replace(ctx, profile=profile), str(data.get("then", "")))
        note = Reply(copy.registered(profile.name.split()[0]))
        return replace(
            after,
            replies=(note, *after.replies),
            effects=(SaveProfile(profile.name, profile.level, profile.email), *after.effects),
            flow_completed=FLOW,
        )
    if message.choice == "no" or message.word is intents.Word.NO:
        return start(conversation, ctx, str(data.get("then", "")))
    text = copy.register_summary(data["name"], data["level"], data["email"])
    return not_understood(
        respond(conversation, CONFIRM, Reply(text, CONFIRM_OPTIONS), data=_data(conversation))
    )


def _carry_on(conversation: Conversation, ctx: Context, then: str) -> Turn:
    from conversation.engine import main_menu
    from conversation.flows import homework, subscription

    if then == "homework":
        return homework.start(conversation, ctx)
    if then == "pay":
        return subscription.choose_plan(conversation, ctx)
    return main_menu(conversation, ctx)


STATES: dict[str, StateHandler] = {
    NAME: naming,
    LEVEL: choosing_level,
    EMAIL: giving_email,
    CONFIRM: confirming,
}
