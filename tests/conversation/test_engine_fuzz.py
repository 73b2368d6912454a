"""Any sequence of messages, hostile ones included, through the pure engine: it never
raises, always answers, keeps the cart sane and never orders an empty cart."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from conversation import engine, intents
from conversation.engine import Context, Conversation, Product

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
CATALOG = (
    Product(1, "A", "Algebra Pack", 500_000, "NGN"),
    Product(2, "B", "Biology Pack", 350_050, "NGN"),
)
HOSTILE = [
    "'; DROP TABLE conversation.orders; --",
    "1 OR 1=1",
    "{{7*7}}",
    "${7*7}",
    "{% for x in range(10**9) %}x{% endfor %}",
    "<script>alert(1)</script>",
    "../../etc/passwd",
    "%00\x00\u202e",
    "1 x 99999999999999999999999",
    "1 x -5",
    "add 0 of 1",
    "9" * 500,
    "🙂" * 200,
]
COMMANDS = ["hi", "1", "2", "1 x 2", "2 x 3", "cart", "clear", "place order", "yes", "no", "back"]
messages = st.lists(
    st.one_of(st.sampled_from(COMMANDS), st.sampled_from(HOSTILE), st.text(max_size=200)),
    min_size=1,
    max_size=12,
)


@settings(max_examples=120, deadline=None)
@given(messages)
def test_any_sequence_of_messages_is_answered_and_keeps_the_state_sane(texts: list[str]) -> None:
    conversation = Conversation()
    for text in texts:
        context = Context(NOW, CATALOG, "Bright Path Tutors", "NGN", "ORD-TEST0001")
        turn = engine.remember_offered(engine.handle(conversation, text, context))
        assert turn.replies, f"no reply to {text!r}"
        assert all(reply.text.strip() for reply in turn.replies)
        assert all(line.quantity > 0 for line in turn.cart)
        assert {line.sku for line in turn.cart} <= {p.sku for p in CATALOG}
        if turn.order is not None:
            assert turn.order.lines and turn.order.total_minor > 0
        conversation = Conversation(turn.state, turn.data, NOW, turn.cart)


@given(st.sampled_from(HOSTILE))
def test_hostile_strings_are_never_taken_for_a_command(text: str) -> None:
    assert intents.word(text) is None
