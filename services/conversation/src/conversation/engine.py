"""Runs one turn of a conversation: current state + input -> new state, replies, events.
Pure: the clock, the catalogue and new references are passed in."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from conversation import copy, intents
from shared.events import Option

IDLE_LIMIT = timedelta(minutes=30)
MENU = "menu"


@dataclass(frozen=True)
class Product:
    number: int  # as shown to the user, from 1
    sku: str
    name: str
    price_minor: int
    currency: str
    description: str = ""


@dataclass(frozen=True)
class CartLine:
    sku: str
    quantity: int


@dataclass(frozen=True)
class Reply:
    text: str
    options: tuple[Option, ...] = ()


@dataclass(frozen=True)
class OrderDraft:
    reference: str
    lines: tuple[tuple[Product, int], ...]
    currency: str

    @property
    def total_minor(self) -> int:
        return sum(product.price_minor * quantity for product, quantity in self.lines)


@dataclass(frozen=True)
class Conversation:
    state: str = MENU
    data: Mapping[str, Any] = field(default_factory=dict)
    last_active: datetime | None = None
    cart: tuple[CartLine, ...] = ()

    @property
    def is_new(self) -> bool:
        return self.last_active is None


@dataclass(frozen=True)
class Context:
    now: datetime
    catalog: tuple[Product, ...]
    business_name: str
    currency: str
    new_reference: str  # used only if this turn places an order


@dataclass(frozen=True)
class Input:
    text: str
    # The option the user picked, when the text is a number or id of one offered last turn.
    choice: str | None = None
    word: intents.Word | None = None


@dataclass(frozen=True)
class Turn:
    state: str
    data: Mapping[str, Any]
    cart: tuple[CartLine, ...]
    replies: tuple[Reply, ...]
    order: OrderDraft | None = None
    flow_started: str | None = None
    flow_completed: str | None = None
    expired: bool = False
    understood: bool = True


StateHandler = Callable[[Conversation, Input, Context], Turn]


def respond(
    conversation: Conversation,
    state: str,
    *replies: Reply,
    data: Mapping[str, Any] | None = None,
    cart: tuple[CartLine, ...] | None = None,
    **extra: Any,
) -> Turn:
    return Turn(
        state=state,
        data=dict(data or {}),
        cart=conversation.cart if cart is None else cart,
        replies=replies,
        **extra,
    )


def main_menu(conversation: Conversation, ctx: Context, note: str | None = None) -> Turn:
    text = copy.welcome(ctx.business_name) if conversation.is_new else copy.menu(ctx.business_name)
    if note:
        text = f"{note}\n\n{text}"
    return respond(conversation, MENU, Reply(text, copy.MENU_OPTIONS))


def _resolve(text: str, offered: list[str]) -> Input:
    picked = intents.number(text)
    choice: str | None = None
    if picked is not None and 1 <= picked <= len(offered):
        choice = offered[picked - 1]
    elif text.strip().lower() in offered:
        choice = text.strip().lower()
    return Input(text=text, choice=choice, word=intents.word(text))


def _states() -> dict[str, StateHandler]:
    from conversation.flows import menu, ordering

    return {**menu.STATES, **ordering.STATES}


def handle(conversation: Conversation, text: str, ctx: Context) -> Turn:
    """One inbound message in, one turn out."""
    if (
        conversation.last_active is not None
        and conversation.state != MENU
        and ctx.now - conversation.last_active > IDLE_LIMIT
    ):
        return replace(main_menu(conversation, ctx, copy.EXPIRED), expired=True)
    offered = list(conversation.data.get("offered", []))
    if conversation.state == MENU and not offered:
        offered = [option.id for option in copy.MENU_OPTIONS]
    message = _resolve(text, offered)
    if message.word is intents.Word.MENU or conversation.is_new:
        return main_menu(conversation, ctx)
    if message.word is intents.Word.CANCEL:
        return main_menu(conversation, ctx, copy.CANCELLED)
    if message.word is intents.Word.HELP:
        return main_menu(conversation, ctx, copy.HELP)
    handler = _states().get(conversation.state)
    if handler is None:
        return main_menu(conversation, ctx)
    return handler(conversation, message, ctx)


def remember_offered(turn: Turn) -> Turn:
    """Store the ids of the options just offered, so a reply of '2' means the second."""
    offered = [option.id for reply in turn.replies for option in reply.options]
    return replace(turn, data={**turn.data, "offered": offered})
