"""The tutoring words, emails and ratings: forgiving of case, spacing, punctuation and
small typos, property-tested."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conversation import intents
from conversation.intents import Word


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("STOP", Word.STOP),
        ("stop.", Word.STOP),
        ("unsubscribe", Word.STOP),
        ("Start", Word.START),
        ("start over", Word.MENU),
        ("END", Word.END),
        ("end chat", Word.END),
        ("accept", Word.ACCEPT),
        ("acept", Word.ACCEPT),
        ("Accept!", Word.ACCEPT),
        ("skip", Word.SKIP),
        ("no note", Word.SKIP),
        ("tickets", Word.WORK),
        ("my work", Word.WORK),
        ("yes please", Word.YES),
        ("yep", Word.YES),
    ],
)
def test_tutoring_words_with_case_punctuation_and_typos(text: str, expected: Word) -> None:
    assert intents.word(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ada@example.com", "ada@example.com"),
        ("  Ada.Obi+hw@Mail.Example.ng ", "ada.obi+hw@mail.example.ng"),
        ("<ada@example.com>", "ada@example.com"),
        ("ada@example", None),
        ("ada example.com", None),
        ("@example.com", None),
        ("ada@@example.com", None),
        ("", None),
    ],
)
def test_email_addresses_are_checked_and_lower_cased(text: str, expected: str | None) -> None:
    assert intents.email(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5", 5),
        ("4 stars", 4),
        ("4/5", 4),
        ("3 out of 5", 3),
        ("⭐⭐", 2),
        ("rate 1", 1),
        ("6", None),
        ("0", None),
        ("45", None),
        ("⭐⭐⭐⭐⭐⭐", None),
        ("great", None),
    ],
)
def test_ratings_from_one_to_five_in_common_forms(text: str, expected: int | None) -> None:
    assert intents.rating(text) == expected


@given(st.text(max_size=300))
def test_new_parsers_never_raise_on_any_text(text: str) -> None:
    intents.email(text)
    rating = intents.rating(text)
    assert rating is None or 1 <= rating <= 5


@given(
    st.from_regex(r"[a-z][a-z0-9._]{0,20}", fullmatch=True),
    st.from_regex(r"[a-z][a-z0-9]{0,15}", fullmatch=True),
    st.sampled_from(["com", "ng", "co.uk", "org"]),
    st.text(" \t", max_size=3),
)
def test_any_plausible_address_with_any_case_and_spacing_is_accepted(
    local: str, domain: str, tld: str, space: str
) -> None:
    address = f"{local}@{domain}.{tld}"
    assert intents.email(f"{space}{address.upper()}{space}") == address


@given(st.integers(1, 5), st.sampled_from(["", " stars", " star", "/5", " out of 5", "!"]))
def test_any_rating_from_one_to_five_with_decoration_parses(stars: int, suffix: str) -> None:
    assert intents.rating(f"{stars}{suffix}") == stars


@given(
    st.sampled_from(["stop", "start", "accept", "skip", "end"]),
    st.lists(st.booleans(), min_size=6, max_size=6),
    st.sampled_from(["", "!", ".", " ", "?!"]),
)
def test_case_and_punctuation_do_not_change_a_tutoring_word(
    phrase: str, upper: list[bool], tail: str
) -> None:
    cased = "".join(c.upper() if u else c for c, u in zip(phrase, upper, strict=False)) + tail
    assert intents.word(cased) == intents.word(phrase)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("PAY ORD-AB12CD34", "ORD-AB12CD34"),
        ("pay ord-ab12cd34.", "ORD-AB12CD34"),
        ("retry ORD AB12CD34", "ORD-AB12CD34"),
        ("pay", None),
        ("pay ORD-1", None),
    ],
)
def test_pay_with_an_order_reference_is_recognised(text: str, expected: str | None) -> None:
    assert intents.pay_order(text) == expected
