"""One module per flow; each declares its states and what each input does in them."""

from __future__ import annotations

from conversation.engine import MediaHandler, StateHandler
from conversation.flows import (
    agent,
    faq,
    homework,
    menu,
    ordering,
    registration,
    subscription,
    support,
    tutor,
)

ALL_STATES: dict[str, StateHandler] = {
    **menu.STATES,
    **ordering.STATES,
    **registration.STATES,
    **homework.STATES,
    **support.STATES,
    **subscription.STATES,
    **faq.STATES,
    **tutor.STATES,
    **agent.STATES,
}
MEDIA_STATES: dict[str, MediaHandler] = {**homework.MEDIA, **tutor.MEDIA}
