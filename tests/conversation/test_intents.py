"""The intent parser forgives case, spacing, punctuation and small typos, and never
mistakes one command for another."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conversation import intents
from conversation.intents import AddToCart, Word


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 x 10", AddToCart(1, 10)),
        ("1x10", AddToCart(1, 10)),
        ("1X10", AddToCart(1, 10)),
        ("1 * 10", AddToCart(1, 10)),
        ("1*10", AddToCart(1, 10)),
        ("1 × 10", AddToCart(1, 10)),
        ("add 10 of 1", AddToCart(1, 10)),
        ("Add 10 of item 1", AddToCart(1, 10)),
        ("add 1 x 10", AddToCart(1, 10)),
        ("  3   x   2 ", AddToCart(3, 2)),
        ("hi", None),
        ("10", None),
        ("x 10", None),
        ("1 x", None),
    ],
)
def test_item_times_quantity_in_every_documented_form(
    text: str, expected: AddToCart | None
) -> None:
    assert intents.add_to_cart(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hi", Word.MENU),
        ("HELLO!!", Word.MENU),
        ("Menu.", Word.MENU),
        ("menuu", Word.MENU),
        ("cancel", Word.CANCEL),
        ("cancle", Word.CANCEL),
        ("back", Word.CANCEL),
        ("yes", Word.YES),
        ("Y", Word.YES),
        ("yeah", Word.YES),
        ("ok", Word.YES),
        ("Confirm", Word.YES),
        ("confrim", Word.YES),
        ("no", Word.NO),
        ("nope", Word.NO),
        ("place order", Word.CHECKOUT),
        ("Place Order!", Word.CHECKOUT),
        ("place ordr", Word.CHECKOUT),
        ("checkout", Word.CHECKOUT),
        ("cart", Word.CART),
        ("view cart", Word.CART),
        ("clear", Word.CLEAR),
        ("help", Word.HELP),
        ("helpp", Word.HELP),
        ("banana", None),
        ("", None),
        ("   ", None),
        ("😀", None),
    ],
)
def test_words_with_case_punctuation_and_typos(text: str, expected: Word | None) -> None:
    assert intents.word(text) == expected


@pytest.mark.parametrize(("text", "expected"), [("2", 2), (" 2. ", 2), ("#2", 2), ("option 2", 2)])
def test_numbers_with_decoration(text: str, expected: int) -> None:
    assert intents.number(text) == expected


def test_remove_takes_a_line_number() -> None:
    assert intents.remove_from_cart("remove 2") == 2
    assert intents.remove_from_cart("Remove item 3") == 3
    assert intents.remove_from_cart("remove") is None


@given(st.text(max_size=300))
def test_parser_never_raises_on_any_text(text: str) -> None:
    intents.word(text)
    intents.number(text)
    intents.add_to_cart(text)
    intents.remove_from_cart(text)


@given(
    st.integers(1, 9999),
    st.integers(1, 99999),
    st.sampled_from(["x", "X", "*", "×"]),
    st.text(" ", max_size=3),
    st.text(" ", max_size=3),
)
def test_any_spacing_around_any_times_sign_parses(
    item: int, quantity: int, sign: str, left: str, right: str
) -> None:
    assert intents.add_to_cart(f"{item}{left}{sign}{right}{quantity}") == AddToCart(item, quantity)


@given(st.sampled_from(["yes", "place order", "cancel", "menu", "checkout"]), st.data())
def test_case_and_trailing_punctuation_do_not_change_the_word(
    phrase: str, data: st.DataObject
) -> None:
    cased = "".join(c.upper() if data.draw(st.booleans()) else c for c in phrase) + data.draw(
        st.sampled_from(["", "!", ".", "?", " !!"])
    )
    assert intents.word(cased) == intents.word(phrase)
