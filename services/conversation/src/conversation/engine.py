"""Runs one turn of a conversation: current state + input -> new state, replies, effects.
Pure: the clock, the catalogue, the student's profile and new references are passed in."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from conversation import copy, intents
from conversation.effects import ChangeContactPreference, Effect
from shared.events import MediaRef, MediaRejection, Option

IDLE_LIMIT = timedelta(minutes=30)
MENU = "menu"
TUTOR_MENU = "tutor.menu"
AGENT_MENU = "agent.menu"


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
class Profile:
    name: str
    level: str
    email: str


@dataclass(frozen=True)
class SubscriptionView:
    plan_name: str
    status: str  # active | expired | cancelled
    ends_at: datetime
    credits_left: int | None = None  # None: unlimited while active

    def covers(self, now: datetime) -> bool:
        return (
            self.status == "active"
            and self.ends_at > now
            and (self.credits_left is None or self.credits_left > 0)
        )


@dataclass(frozen=True)
class Plan:
    code: str
    name: str
    price_minor: int
    currency: str
    description: str = ""


@dataclass(frozen=True)
class FaqItem:
    topic: str
    answer: str


@dataclass(frozen=True)
class WorkItem:
    """A homework offered to or accepted by the tutor who is writing."""

    reference: str
    subject: str
    question: str
    status: str  # offered | accepted


@dataclass(frozen=True)
class TicketItem:
    reference: str
    description: str
    status: str  # open | closed
    agent_phone: str | None = None


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
    role: str = "student"  # student | tutor | agent
    profile: Profile | None = None
    subscription: SubscriptionView | None = None
    free_credits_left: int = 0
    subjects: tuple[str, ...] = ("Mathematics", "English", "Physics", "Chemistry", "Biology")
    levels: tuple[str, ...] = ("Primary", "JSS", "SSS", "University")
    plans: tuple[Plan, ...] = ()
    faq: tuple[FaqItem, ...] = ()
    work: tuple[WorkItem, ...] = ()  # tutors: their open assignments, oldest first
    tickets: tuple[TicketItem, ...] = ()  # agents: open tickets, oldest first
    open_ticket: TicketItem | None = None  # students: their open ticket, if any
    new_homework_reference: str = "HW-TEST"
    new_ticket_reference: str = "TCK-TEST"
    idle_limit: timedelta = IDLE_LIMIT


@dataclass(frozen=True)
class Input:
    text: str
    # The option the user picked: a tapped button's id, or the text as a number or id of
    # one offered last turn.
    choice: str | None = None
    word: intents.Word | None = None
    media: tuple[MediaRef, ...] = ()


@dataclass(frozen=True)
class MediaResult:
    """The notifier's verdict on a photo the user sent."""

    stored: MediaRef | None
    rejection: MediaRejection | None = None


@dataclass(frozen=True)
class Turn:
    state: str
    data: Mapping[str, Any]
    cart: tuple[CartLine, ...]
    replies: tuple[Reply, ...]
    order: OrderDraft | None = None
    effects: tuple[Effect, ...] = ()
    flow_started: str | None = None
    flow_completed: str | None = None
    expired: bool = False
    understood: bool = True


StateHandler = Callable[[Conversation, Input, Context], Turn]
MediaHandler = Callable[[Conversation, MediaResult, Context], Turn]


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


def not_understood(turn: Turn) -> Turn:
    return replace(turn, understood=False)


def main_menu(conversation: Conversation, ctx: Context, note: str | None = None) -> Turn:
    """The home of whoever is writing: the student menu, or the tutor's or agent's desk."""
    if ctx.role == "tutor":
        from conversation.flows import tutor

        return tutor.home(conversation, ctx, note)
    if ctx.role == "agent":
        from conversation.flows import agent

        return agent.home(conversation, ctx, note)
    text = copy.welcome(ctx.business_name) if conversation.is_new else copy.menu(ctx.business_name)
    if note:
        text = f"{note}\n\n{text}"
    return respond(conversation, MENU, Reply(text, copy.MENU_OPTIONS))


def _resolve(
    text: str, offered: list[str], selected: str | None, media: tuple[MediaRef, ...]
) -> Input:
    choice: str | None = None
    if selected:
        choice = selected
    else:
        picked = intents.number(text)
        if picked is not None and 1 <= picked <= len(offered):
            choice = offered[picked - 1]
        elif text.strip().lower() in offered:
            choice = text.strip().lower()
    return Input(text=text, choice=choice, word=intents.word(text), media=media)


def _states() -> dict[str, StateHandler]:
    from conversation.flows import ALL_STATES

    return ALL_STATES


def _media_states() -> dict[str, MediaHandler]:
    from conversation.flows import MEDIA_STATES

    return MEDIA_STATES


def _home_state(ctx: Context) -> str:
    return {"tutor": TUTOR_MENU, "agent": AGENT_MENU}.get(ctx.role, MENU)


def handle(
    conversation: Conversation,
    text: str,
    ctx: Context,
    *,
    selected: str | None = None,
    media: tuple[MediaRef, ...] = (),
    unsupported: str | None = None,
) -> Turn:
    """One inbound message in, one turn out."""
    home = _home_state(ctx)
    if conversation.state.split(".")[0] != home.split(".")[0] and home != MENU:
        # A number just registered as a tutor or agent starts at their desk.
        conversation = replace(conversation, state=home)
    elif conversation.state.startswith(("tutor.", "agent.")) and home == MENU:
        conversation = replace(conversation, state=MENU, data={})
    if (
        conversation.last_active is not None
        and conversation.state != home
        and ctx.now - conversation.last_active > ctx.idle_limit
    ):
        note = copy.expired(int(ctx.idle_limit.total_seconds()))
        return replace(main_menu(conversation, ctx, note), expired=True)
    offered = list(conversation.data.get("offered", []))
    if conversation.state == MENU and not offered and ctx.role == "student":
        offered = [option.id for option in copy.MENU_OPTIONS]
    message = _resolve(text, offered, selected, media)
    if unsupported is not None:
        return _unsupported(conversation)
    if message.word is intents.Word.STOP:
        return respond(
            conversation,
            home,
            Reply(copy.opted_out(ctx.business_name)),
            effects=(ChangeContactPreference(opted_out=True),),
        )
    if message.word is intents.Word.START:
        welcome_back = main_menu(conversation, ctx, copy.OPTED_IN)
        return replace(welcome_back, effects=(ChangeContactPreference(opted_out=False),))
    if message.word is intents.Word.MENU or (conversation.is_new and home == MENU):
        return main_menu(conversation, ctx)
    if message.word is intents.Word.CANCEL and not media:
        return main_menu(conversation, ctx, copy.CANCELLED)
    if message.word is intents.Word.HELP:
        return main_menu(conversation, ctx, copy.help_text(ctx.role))
    handler = _states().get(conversation.state)
    if handler is None:
        return main_menu(conversation, ctx)
    return handler(conversation, message, ctx)


def media_arrived(conversation: Conversation, result: MediaResult, ctx: Context) -> Turn | None:
    """The checked photo came back; None when the conversation is no longer waiting for it."""
    handler = _media_states().get(conversation.state)
    if handler is None:
        return None
    return handler(conversation, result, ctx)


def _unsupported(conversation: Conversation) -> Turn:
    options = tuple(
        Option(id=item[0], title=item[1]) for item in conversation.data.get("options", [])
    )
    if not options and conversation.state == MENU:
        options = copy.MENU_OPTIONS
    return respond(
        conversation,
        conversation.state,
        Reply(copy.UNSUPPORTED, options),
        data=conversation.data,
        understood=False,
    )


def remember_offered(turn: Turn) -> Turn:
    """Store the options just offered, so a reply of '2' means the second."""
    if not turn.replies:  # a silent turn (a relayed chat line) keeps what was offered
        return turn
    options = [option for reply in turn.replies for option in reply.options]
    return replace(
        turn,
        data={
            **turn.data,
            "offered": [option.id for option in options],
            "options": [[option.id, option.title] for option in options],
        },
    )
