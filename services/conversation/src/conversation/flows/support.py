"""Chat with support: describe the problem, a ticket opens, lines go to and from an agent.

  support.describe  "Tell us what went wrong"       text -> OpenTicket -> chatting
  support.chatting  the ticket is open              each line -> MessageAgent (the agent's
                                                    replies arrive on their own); END ->
                                                    CloseTicket -> menu; once an agent has
                                                    closed it, the next line says so -> menu

Choosing support while a ticket is still open goes straight back into that chat.
"""

from __future__ import annotations

from conversation import copy, intents
from conversation.effects import CloseTicket, MessageAgent, OpenTicket
from conversation.engine import (
    MENU,
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

FLOW = "support"
DESCRIBE = "support.describe"
CHATTING = "support.chatting"

END_OPTIONS = (Option(id="end", title="End chat"),)


def start(conversation: Conversation, ctx: Context) -> Turn:
    if ctx.open_ticket is not None:
        return respond(
            conversation,
            CHATTING,
            Reply(copy.ticket_resumed(ctx.open_ticket.reference), END_OPTIONS),
            data={"ticket": ctx.open_ticket.reference},
        )
    return respond(conversation, DESCRIBE, Reply(copy.SUPPORT_DESCRIBE), flow_started=FLOW)


def describing(conversation: Conversation, message: Input, ctx: Context) -> Turn:
    description = message.text.strip()
    if len(description) < 3:
        return not_understood(respond(conversation, DESCRIBE, Reply(copy.SUPPORT_DESCRIBE)))
    reference = ctx.new_ticket_reference
    return respond(
        conversation,
        CHATTING,
        Reply(copy.ticket_opened(reference), END_OPTIONS),
        data={"ticket": reference},
        effects=(OpenTicket(reference, description[:4000]),),
    )


def chatting(conversation: Conversation, message: Input, ctx: Context) -> Turn:
    reference = str(conversation.data.get("ticket", ""))
    if ctx.open_ticket is None or ctx.open_ticket.reference != reference:
        return main_menu(conversation, ctx, copy.ticket_was_closed(reference))
    if message.choice == "end" or message.word is intents.Word.END:
        return respond(
            conversation,
            MENU,
            Reply(copy.ticket_closed_by_student(reference), copy.MENU_OPTIONS),
            effects=(CloseTicket(reference, by="student"),),
            flow_completed=FLOW,
        )
    text = message.text.strip()
    if not text:
        return respond(
            conversation,
            CHATTING,
            Reply(copy.SUPPORT_TEXT_ONLY, END_OPTIONS),
            data={"ticket": reference},
        )
    effects = (MessageAgent(reference, text[:4000]),)
    if ctx.open_ticket.agent_phone is None:
        # Nobody has the ticket yet: say it is kept, rather than leave the student wondering.
        return respond(
            conversation,
            CHATTING,
            Reply(copy.SUPPORT_QUEUED, END_OPTIONS),
            data={"ticket": reference},
            effects=effects,
        )
    return respond(conversation, CHATTING, data={"ticket": reference}, effects=effects)


STATES: dict[str, StateHandler] = {DESCRIBE: describing, CHATTING: chatting}
