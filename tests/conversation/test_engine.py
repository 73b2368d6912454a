"""The pure conversation engine: state + input -> state, replies, order. No I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from conversation import engine
from conversation.engine import CartLine, Context, Conversation, Product
from conversation.flows import ordering

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
CATALOG = (
    Product(1, "A", "Algebra Pack", 500_000, "NGN"),
    Product(2, "B", "Biology Pack", 350_050, "NGN"),
)


def ctx(now: datetime = NOW, catalog: tuple[Product, ...] = CATALOG) -> Context:
    return Context(now, catalog, "Bright Path Tutors", "NGN", "ORD-TEST0001")


def play(*texts: str, start: Conversation | None = None) -> tuple[Conversation, engine.Turn]:
    conversation = start or Conversation()
    turn: engine.Turn | None = None
    for text in texts:
        turn = engine.remember_offered(engine.handle(conversation, text, ctx()))
        conversation = Conversation(turn.state, turn.data, NOW, turn.cart)
    assert turn is not None
    return conversation, turn


def test_first_message_of_a_new_number_gets_the_welcome_menu_whatever_it_says() -> None:
    _, turn = play("what is this?")
    assert turn.replies[0].text.startswith("Welcome to Bright Path Tutors")
    assert len(turn.replies[0].options) == 6


def test_menu_number_picks_the_option_in_that_position() -> None:
    _, turn = play("hi", "1")
    assert turn.state == ordering.BROWSING
    assert [o.title for o in turn.replies[0].options] == ["Algebra Pack", "Biology Pack"]
    assert turn.flow_started == "ordering"


def test_adding_the_same_item_twice_adds_up_the_quantity() -> None:
    _, turn = play("hi", "1 x 2", "1 x 3")
    assert turn.cart == (CartLine("A", 5),)


def test_money_is_exact_in_minor_units() -> None:
    _, turn = play("hi", "2 x 3", "place order", "yes")
    assert turn.order is not None
    assert turn.order.total_minor == 1_050_150
    assert "₦10,501.50" in turn.replies[0].text


def test_item_number_out_of_range_is_explained_not_added() -> None:
    _, turn = play("hi", "9 x 1")
    assert turn.cart == ()
    assert "no item 9" in turn.replies[0].text
    assert not turn.understood


def test_zero_or_huge_quantity_is_refused() -> None:
    _, zero = play("hi", "1 x 0")
    _, huge = play("hi", "1 x 99999")
    assert zero.cart == huge.cart == ()
    assert "from 1 to 1000" in zero.replies[0].text


def test_bare_item_number_asks_how_many_then_adds() -> None:
    conversation, asked = play("hi", "1", "2")
    assert asked.state == ordering.QUANTITY
    assert "How many of Biology Pack" in asked.replies[0].text
    _, added = play("4", start=conversation)
    assert added.cart == (CartLine("B", 4),)


def test_yes_places_the_order_once_and_empties_the_cart() -> None:
    _, turn = play("hi", "1 x 1", "place order", "yes")
    assert turn.order is not None
    assert turn.order.reference == "ORD-TEST0001"
    assert turn.cart == ()
    assert turn.state == engine.MENU
    assert turn.flow_completed == "ordering"


def test_numbered_reply_to_the_confirmation_picks_yes_or_no() -> None:
    _, yes = play("hi", "1 x 1", "place order", "1")
    _, no = play("hi", "1 x 1", "place order", "2")
    assert yes.order is not None
    assert no.order is None
    assert no.cart == (CartLine("A", 1),)


def test_cancel_anywhere_returns_to_the_menu_and_keeps_the_cart() -> None:
    _, turn = play("hi", "1 x 1", "place order", "cancel")
    assert turn.state == engine.MENU
    assert turn.cart == (CartLine("A", 1),)
    assert turn.replies[0].text.startswith("Cancelled")


def test_thirty_idle_minutes_expire_the_flow_but_not_before() -> None:
    conversation, _ = play("hi", "1")
    almost = Conversation(conversation.state, conversation.data, NOW, conversation.cart)
    kept = engine.handle(almost, "1 x 1", ctx(NOW + timedelta(minutes=29)))
    assert kept.cart == (CartLine("A", 1),)
    expired = engine.handle(almost, "1 x 1", ctx(NOW + timedelta(minutes=31)))
    assert expired.expired
    assert expired.state == engine.MENU
    assert "30 minutes" in expired.replies[0].text


def test_empty_catalogue_says_so() -> None:
    turn = engine.handle(Conversation(last_active=NOW), "1", Context(NOW, (), "X", "NGN", "ORD-1"))
    assert "no study packs" in turn.replies[0].text


def test_help_explains_the_global_words() -> None:
    _, turn = play("hi", "help")
    assert "MENU" in turn.replies[0].text and "CANCEL" in turn.replies[0].text
