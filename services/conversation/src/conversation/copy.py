"""Every sentence the desk says to a user, in one place."""

from __future__ import annotations

from shared.events import Option

MENU_OPTIONS = (
    Option(id="shop", title="Shop study packs"),
    Option(id="homework", title="Submit homework"),
    Option(id="support", title="Chat with support"),
    Option(id="subscription", title="My subscription"),
    Option(id="faq", title="FAQ"),
    Option(id="pay", title="Subscribe / pay"),
)

CONFIRM_OPTIONS = (
    Option(id="yes", title="Yes, place order"),
    Option(id="no", title="No, keep shopping"),
)


def welcome(business_name: str) -> str:
    return f"Welcome to {business_name}! 👋 How can we help you today? Reply with a number."


def menu(business_name: str) -> str:
    return f"{business_name} — main menu. Reply with a number:"


EXPIRED = "Your last session ended after 30 minutes without a reply, so we started again."
CANCELLED = "Cancelled. Back to the main menu:"
NOT_YET = "That part of the desk opens soon. Meanwhile you can shop our study packs:"
UNKNOWN_MENU = "Sorry, I didn't catch that. Reply with a number from the menu, or HELP."
HELP = (
    "Send a number to choose an option. Words that work anywhere: MENU (main menu), "
    "CANCEL (go back), HELP (this message)."
)

PRODUCT_LIST = (
    "Study packs. To add one, send its number × quantity, e.g. 1 x 10. "
    "Send CART to see your cart or PLACE ORDER to check out."
)
NO_PRODUCTS = "There are no study packs on sale right now. Please check again later."
UNKNOWN_SHOP = "Sorry, I didn't catch that. Send item × quantity (e.g. 1 x 10), CART, or MENU."


def no_such_item(item: int, count: int) -> str:
    return f"There is no item {item}. Choose a number from 1 to {count}:"


def bad_quantity(maximum: int) -> str:
    return f"Please send a quantity from 1 to {maximum}."


def ask_quantity(name: str) -> str:
    return f"How many of {name}? Send a number, e.g. 2."


def added(quantity: int, name: str, cart_total: str, lines: int) -> str:
    items = "item" if lines == 1 else "items"
    return (
        f"Added {quantity} × {name} to your cart.\n"
        f"Cart: {lines} {items}, total {cart_total}.\n"
        "Add more, send CART to review, or PLACE ORDER to check out."
    )


def cart(lines: list[str], total: str) -> str:
    body = "\n".join(lines)
    return (
        f"Your cart:\n{body}\nTotal: {total}\n"
        "Send REMOVE and a line number to take one out, CLEAR to empty it, "
        "or PLACE ORDER to check out."
    )


EMPTY_CART = "Your cart is empty. Send item × quantity to add a study pack, e.g. 1 x 10."
CLEARED = "Your cart is now empty."


def removed(name: str) -> str:
    return f"Removed {name} from your cart."


def no_such_line(line: int) -> str:
    return f"There is no line {line} in your cart."


def order_summary(lines: list[str], total: str) -> str:
    body = "\n".join(lines)
    return f"Order summary:\n{body}\nTotal: {total}\n\nPlace this order?"


CONFIRM_HINT = "Reply YES to place the order or NO to keep shopping."
KEEP_SHOPPING = "No problem, your cart is kept. Add more or send PLACE ORDER when ready."


def order_placed(reference: str, total: str) -> str:
    return (
        f"✅ Thank you! Your order {reference} is being processed.\n"
        f"Total: {total}. Send MENU for anything else."
    )
