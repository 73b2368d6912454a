"""The main menu: where every student conversation starts and returns.

menu   the six options; each starts its flow. Shopping commands (1 x 10, CART ...) work
       straight from here, as the ordering seed allowed.
"""

from __future__ import annotations

from conversation import copy, intents
from conversation.effects import RetryOrderPayment
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
from conversation.flows import faq, homework, ordering, subscription, support


def in_menu(conversation: Conversation, message: Input, ctx: Context) -> Turn:
    starts = {
        "shop": lambda: ordering.show_products(conversation, ctx, started=True),
        "homework": lambda: homework.start(conversation, ctx),
        "support": lambda: support.start(conversation, ctx),
        "subscription": lambda: subscription.show(conversation, ctx),
        "faq": lambda: faq.topics(conversation, ctx, started=True),
        "pay": lambda: subscription.choose_plan(conversation, ctx),
    }
    if message.choice in starts:
        return starts[message.choice]()
    reference = intents.pay_order(message.text)
    if reference is not None:
        return respond(
            conversation,
            MENU,
            Reply(copy.order_payment_retry(reference)),
            effects=(RetryOrderPayment(reference),),
        )
    if ordering.is_shopping_command(message):
        return ordering.browsing(conversation, message, ctx)
    return not_understood(main_menu(conversation, ctx, copy.UNKNOWN_MENU))


STATES: dict[str, StateHandler] = {MENU: in_menu}
