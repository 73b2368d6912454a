"""Ordering study packs: browse, add item × quantity, review the cart, place the order.

States:
  ordering.browsing    product list shown; item × quantity, CART, REMOVE n, CLEAR, PLACE ORDER
  ordering.quantity    a bare item number was sent; waiting for how many
  ordering.confirming  order summary shown; YES places it, NO keeps the cart
"""

from __future__ import annotations

from dataclasses import replace

from conversation import copy, intents
from conversation.engine import (
    MENU,
    CartLine,
    Context,
    Conversation,
    Input,
    OrderDraft,
    Product,
    Reply,
    StateHandler,
    Turn,
    respond,
)
from conversation.money import format_money
from shared.events import Option

FLOW = "ordering"
BROWSING = "ordering.browsing"
QUANTITY = "ordering.quantity"
CONFIRMING = "ordering.confirming"
MAX_QUANTITY = 1000
MAX_CART_LINES = 20


def _product_options(catalog: tuple[Product, ...]) -> tuple[Option, ...]:
    return tuple(
        Option(
            id=str(product.number),
            title=product.name,
            description=format_money(product.price_minor, product.currency),
        )
        for product in catalog
    )


def _by_sku(ctx: Context) -> dict[str, Product]:
    return {product.sku: product for product in ctx.catalog}


def _priced_lines(cart: tuple[CartLine, ...], ctx: Context) -> list[tuple[Product, int]]:
    products = _by_sku(ctx)
    return [(products[line.sku], line.quantity) for line in cart if line.sku in products]


def _total(lines: list[tuple[Product, int]], ctx: Context) -> str:
    return format_money(sum(p.price_minor * q for p, q in lines), ctx.currency)


def _line_texts(lines: list[tuple[Product, int]]) -> list[str]:
    return [
        f"{index}. {product.name} × {quantity} — "
        f"{format_money(product.price_minor * quantity, product.currency)}"
        for index, (product, quantity) in enumerate(lines, start=1)
    ]


def show_products(
    conversation: Conversation, ctx: Context, *, note: str | None = None, started: bool = False
) -> Turn:
    if not ctx.catalog:
        return respond(conversation, MENU, Reply(copy.NO_PRODUCTS))
    text = copy.PRODUCT_LIST if note is None else f"{note}\n\n{copy.PRODUCT_LIST}"
    return respond(
        conversation,
        BROWSING,
        Reply(text, _product_options(ctx.catalog)),
        flow_started=FLOW if started else None,
    )


def is_shopping_command(message: Input) -> bool:
    return (
        intents.add_to_cart(message.text) is not None
        or intents.remove_from_cart(message.text) is not None
        or message.word in (intents.Word.CART, intents.Word.CLEAR, intents.Word.CHECKOUT)
    )


def _add(conversation: Conversation, ctx: Context, item: int, quantity: int) -> Turn:
    if not 1 <= item <= len(ctx.catalog):
        return replace(
            respond(
                conversation,
                BROWSING,
                Reply(copy.no_such_item(item, len(ctx.catalog)), _product_options(ctx.catalog)),
            ),
            understood=False,
        )
    if not 1 <= quantity <= MAX_QUANTITY:
        return respond(conversation, BROWSING, Reply(copy.bad_quantity(MAX_QUANTITY)))
    product = ctx.catalog[item - 1]
    cart = list(conversation.cart)
    for index, line in enumerate(cart):
        if line.sku == product.sku:
            cart[index] = CartLine(product.sku, min(line.quantity + quantity, MAX_QUANTITY))
            break
    else:
        if len(cart) >= MAX_CART_LINES:
            return respond(conversation, BROWSING, Reply(copy.bad_quantity(MAX_QUANTITY)))
        cart.append(CartLine(product.sku, quantity))
    new_cart = tuple(cart)
    lines = _priced_lines(new_cart, ctx)
    text = copy.added(quantity, product.name, _total(lines, ctx), len(lines))
    return respond(conversation, BROWSING, Reply(text), cart=new_cart)


def _show_cart(conversation: Conversation, ctx: Context, note: str | None = None) -> Turn:
    lines = _priced_lines(conversation.cart, ctx)
    text = copy.cart(_line_texts(lines), _total(lines, ctx)) if lines else copy.EMPTY_CART
    if note:
        text = f"{note}\n\n{text}"
    return respond(conversation, BROWSING, Reply(text))


def _remove(conversation: Conversation, ctx: Context, line: int) -> Turn:
    lines = _priced_lines(conversation.cart, ctx)
    if not 1 <= line <= len(lines):
        return _show_cart(conversation, ctx, copy.no_such_line(line))
    product, _ = lines[line - 1]
    cart = tuple(item for item in conversation.cart if item.sku != product.sku)
    return _show_cart(replace(conversation, cart=cart), ctx, copy.removed(product.name))


def _checkout(conversation: Conversation, ctx: Context) -> Turn:
    lines = _priced_lines(conversation.cart, ctx)
    if not lines:
        return show_products(conversation, ctx, note=copy.EMPTY_CART)
    text = copy.order_summary(_line_texts(lines), _total(lines, ctx))
    return respond(conversation, CONFIRMING, Reply(text, copy.CONFIRM_OPTIONS))


def browsing(conversation: Conversation, message: Input, ctx: Context) -> Turn:
    add = intents.add_to_cart(message.text)
    if add is not None:
        return _add(conversation, ctx, add.item, add.quantity)
    remove = intents.remove_from_cart(message.text)
    if remove is not None:
        return _remove(conversation, ctx, remove)
    if message.word is intents.Word.CART:
        return _show_cart(conversation, ctx)
    if message.word is intents.Word.CLEAR:
        return respond(conversation, BROWSING, Reply(copy.CLEARED), cart=())
    if message.word is intents.Word.CHECKOUT:
        return _checkout(conversation, ctx)
    item = intents.number(message.text)
    if item is not None:
        if not 1 <= item <= len(ctx.catalog):
            return _add(conversation, ctx, item, 1)
        product = ctx.catalog[item - 1]
        return respond(
            conversation, QUANTITY, Reply(copy.ask_quantity(product.name)), data={"item": item}
        )
    return replace(
        respond(
            conversation,
            BROWSING,
            Reply(copy.UNKNOWN_SHOP, _product_options(ctx.catalog)),
        ),
        understood=False,
    )


def choosing_quantity(conversation: Conversation, message: Input, ctx: Context) -> Turn:
    quantity = intents.number(message.text)
    item = conversation.data.get("item")
    if quantity is not None and isinstance(item, int):
        return _add(conversation, ctx, item, quantity)
    return browsing(conversation, message, ctx)


def confirming(conversation: Conversation, message: Input, ctx: Context) -> Turn:
    if message.choice == "yes" or message.word is intents.Word.YES:
        lines = _priced_lines(conversation.cart, ctx)
        if not lines:
            return show_products(conversation, ctx, note=copy.EMPTY_CART)
        order = OrderDraft(ctx.new_reference, tuple(lines), ctx.currency)
        text = copy.order_placed(order.reference, format_money(order.total_minor, ctx.currency))
        return respond(
            conversation,
            MENU,
            Reply(text),
            cart=(),
            order=order,
            flow_completed=FLOW,
        )
    if message.choice == "no" or message.word is intents.Word.NO:
        return respond(conversation, BROWSING, Reply(copy.KEEP_SHOPPING))
    if is_shopping_command(message):
        return browsing(conversation, message, ctx)
    return replace(
        respond(conversation, CONFIRMING, Reply(copy.CONFIRM_HINT, copy.CONFIRM_OPTIONS)),
        understood=False,
    )


STATES: dict[str, StateHandler] = {
    BROWSING: browsing,
    QUANTITY: choosing_quantity,
    CONFIRMING: confirming,
}
