"""The support agent's desk, for a number registered as an agent.

agent.menu      open tickets listed                  a ticket -> PickTicket -> chatting
agent.chatting  the ticket's description shown       each line -> MessageStudent; END ->
                                                     CloseTicket -> menu; a ticket the
                                                     student closed -> menu, saying so
"""

from __future__ import annotations

from conversation import copy, intents
from conversation.effects import CloseTicket, MessageStudent, PickTicket
from conversation.engine import (
    AGENT_MENU,
    Context,
    Conversation,
    Input,
    Reply,
    StateHandler,
    TicketItem,
    Turn,
    not_understood,
    respond,
)
from shared.events import Option

CHATTING = "agent.chatting"
END_OPTIONS = (Option(id="end", title="End chat"),)


def _ticket_options(ctx: Context) -> tuple[Option, ...]:
    return tuple(
        Option(id=f"ticket:{t.reference}", title=t.reference, description=t.description[:72])
        for t in ctx.tickets[:10]
    )


def home(conversation: Conversation, ctx: Context, note: str | None = None) -> Turn:
    text = copy.agent_home(len(ctx.tickets))
    if note:
        text = f"{note}\n\n{text}"
    return respond(conversation, AGENT_MENU, Reply(text, _ticket_options(ctx)))


def _find(ctx: Context, reference: str) -> TicketItem | None:
    return next((t for t in ctx.tickets if t.reference == reference), None)


def at_desk(conversation: Conversation, message: Input, ctx: Context) -> Turn:
    ticket: TicketItem | None = None
    if message.choice and message.choice.startswith("ticket:"):
        ticket = _find(ctx, message.choice.removeprefix("ticket:"))
    else:
        words = intents.normalise(message.text).split()
        number = intents.number(message.text)
        if number is not None and 1 <= number <= len(ctx.tickets):
            ticket = ctx.tickets[number - 1]
        elif len(words) in (2, 3) and words[0] in ("pick", "open", "take"):
            ticket = _find(ctx, "-".join(words[1:]).upper())
    if ticket is not None:
        return respond(
            conversation,
            CHATTING,
            Reply(copy.ticket_picked(ticket.reference, ticket.description), END_OPTIONS),
            data={"ticket": ticket.reference},
            effects=(PickTicket(ticket.reference),),
        )
    if message.word is intents.Word.WORK:
        return home(conversation, ctx)
    return not_understood(home(conversation, ctx, copy.AGENT_HINT))


def chatting(conversation: Conversation, message: Input, ctx: Context) -> Turn:
    reference = str(conversation.data.get("ticket", ""))
    if _find(ctx, reference) is None:
        return home(conversation, ctx, copy.ticket_was_closed(reference))
    if message.choice == "end" or message.word is intents.Word.END:
        from dataclasses import replace

        rest = replace(ctx, tickets=tuple(t for t in ctx.tickets if t.reference != reference))
        after = home(conversation, rest, copy.ticket_closed_by_agent(reference))
        return respond(
            conversation, after.state, *after.replies, effects=(CloseTicket(reference, by="agent"),)
        )
    text = message.text.strip()
    if not text:
        return respond(
            conversation,
            CHATTING,
            Reply(copy.SUPPORT_TEXT_ONLY, END_OPTIONS),
            data={"ticket": reference},
        )
    return respond(
        conversation,
        CHATTING,
        data={"ticket": reference},
        effects=(MessageStudent(reference, text[:4000]),),
    )


STATES: dict[str, StateHandler] = {AGENT_MENU: at_desk, CHATTING: chatting}
