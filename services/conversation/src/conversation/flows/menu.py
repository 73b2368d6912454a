"""The main menu: where every conversation starts and returns."""

from __future__ import annotations

from dataclasses import replace

from conversation import copy
from conversation.engine import MENU, Context, Conversation, Input, StateHandler, Turn, main_menu
from conversation.flows import ordering


def in_menu(conversation: Conversation, message: Input, ctx: Context) -> Turn:
    if message.choice == "shop":
        return ordering.show_products(conversation, ctx, started=True)
    if message.choice is not None:
        return ordering.show_products(conversation, ctx, note=copy.NOT_YET)
    # Shopping commands work straight from the menu, as the ordering seed allowed.
    if ordering.is_shopping_command(message):
        return ordering.browsing(conversation, message, ctx)
    return replace(main_menu(conversation, ctx, copy.UNKNOWN_MENU), understood=False)


STATES: dict[str, StateHandler] = {MENU: in_menu}
