"""Free text -> what the user meant. Pure, forgiving of case, spacing, punctuation and
small typos."""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum


class Word(StrEnum):
    MENU = "menu"
    CANCEL = "cancel"
    HELP = "help"
    STOP = "stop"
    START = "start"
    YES = "yes"
    NO = "no"
    CART = "cart"
    CLEAR = "clear"
    CHECKOUT = "checkout"
    SKIP = "skip"
    END = "end"
    ACCEPT = "accept"
    WORK = "work"


# Every phrase a user might send for a word; typos within one or two letters are caught
# by fuzzy matching against these.
_PHRASES: dict[str, Word] = {
    "hi": Word.MENU,
    "hello": Word.MENU,
    "hey": Word.MENU,
    "menu": Word.MENU,
    "main menu": Word.MENU,
    "home": Word.MENU,
    "start over": Word.MENU,
    "cancel": Word.CANCEL,
    "back": Word.CANCEL,
    "go back": Word.CANCEL,
    "help": Word.HELP,
    "stop": Word.STOP,
    "unsubscribe": Word.STOP,
    "start": Word.START,
    "yes": Word.YES,
    "y": Word.YES,
    "yeah": Word.YES,
    "yep": Word.YES,
    "yes please": Word.YES,
    "ok": Word.YES,
    "okay": Word.YES,
    "sure": Word.YES,
    "confirm": Word.YES,
    "no": Word.NO,
    "n": Word.NO,
    "nope": Word.NO,
    "not now": Word.NO,
    "cart": Word.CART,
    "view cart": Word.CART,
    "my cart": Word.CART,
    "show cart": Word.CART,
    "basket": Word.CART,
    "clear": Word.CLEAR,
    "clear cart": Word.CLEAR,
    "empty cart": Word.CLEAR,
    "place order": Word.CHECKOUT,
    "place my order": Word.CHECKOUT,
    "checkout": Word.CHECKOUT,
    "check out": Word.CHECKOUT,
    "order": Word.CHECKOUT,
    "skip": Word.SKIP,
    "no note": Word.SKIP,
    "none": Word.SKIP,
    "end": Word.END,
    "end chat": Word.END,
    "close": Word.END,
    "close ticket": Word.END,
    "accept": Word.ACCEPT,
    "take it": Word.ACCEPT,
    "i ll take it": Word.ACCEPT,
    "work": Word.WORK,
    "my work": Word.WORK,
    "open work": Word.WORK,
    "list": Word.WORK,
    "tickets": Word.WORK,
    "open tickets": Word.WORK,
}
# Short phrases are too easily confused with each other to guess at.
_FUZZY_MIN_LENGTH = 4


def normalise(text: str) -> str:
    """Lower case, no accents or emoji, punctuation (except x, * and digits) as spaces."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] in "LNZP" or ch in "*×")
    text = text.replace("×", " x ").replace("*", " x ")
    text = re.sub(r"[^\w\s]", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def word(text: str) -> Word | None:
    """The command word ``text`` stands for, if any."""
    cleaned = normalise(text)
    if not cleaned:
        return None
    if cleaned in _PHRASES:
        return _PHRASES[cleaned]
    if len(cleaned) < _FUZZY_MIN_LENGTH:
        return None
    close = difflib.get_close_matches(
        cleaned, [p for p in _PHRASES if len(p) >= _FUZZY_MIN_LENGTH], n=1, cutoff=0.8
    )
    return _PHRASES[close[0]] if close else None


def number(text: str) -> int | None:
    """'2', ' 2. ', '#2', 'option 2' -> 2."""
    match = re.fullmatch(r"(?:option |item |no |number )?(\d{1,4})", normalise(text))
    return int(match.group(1)) if match else None


@dataclass(frozen=True)
class AddToCart:
    item: int
    quantity: int


_ADD_PATTERNS = (
    # 1 x 10, 1x10, 1 * 10, 1 × 10
    re.compile(r"(?P<item>\d{1,4}) ?x ?(?P<qty>\d{1,5})"),
    # add 10 of 1, add 10 of item 1
    re.compile(r"add (?P<qty>\d{1,5}) of (?:item |product |number |no )?(?P<item>\d{1,4})"),
    # add item 1 x 10 / add 1 x 10
    re.compile(r"add (?:item |product )?(?P<item>\d{1,4}) ?x ?(?P<qty>\d{1,5})"),
)


def add_to_cart(text: str) -> AddToCart | None:
    cleaned = normalise(text)
    # "1x10" normalises to "1x10": split the x from the digits around it.
    cleaned = re.sub(r"(?<=\d)x(?=\d)", " x ", cleaned)
    for pattern in _ADD_PATTERNS:
        match = pattern.fullmatch(cleaned)
        if match:
            return AddToCart(int(match.group("item")), int(match.group("qty")))
    return None


def remove_from_cart(text: str) -> int | None:
    match = re.fullmatch(
        r"(?:remove|delete|drop) (?:item |product |number |no )?(\d{1,4})", normalise(text)
    )
    return int(match.group(1)) if match else None


_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,24}")


def email(text: str) -> str | None:
    """A plausible email address in ``text`` (surrounding spaces allowed), lower-cased."""
    candidate = unicodedata.normalize("NFKC", text).strip().strip("<>.,;")
    if len(candidate) > 254 or not _EMAIL.fullmatch(candidate):
        return None
    return candidate.lower()


def rating(text: str) -> int | None:
    """'5', '5 stars', '4/5', '⭐⭐⭐' -> a rating from 1 to 5."""
    stars = text.count("⭐") or text.count("★")
    if stars and not re.search(r"\d", text):
        return stars if 1 <= stars <= 5 else None
    match = re.fullmatch(r"(?:rate |rating )?([1-5])(?: ?stars?| 5| out of 5)?", normalise(text))
    return int(match.group(1)) if match else None


def pay_order(text: str) -> str | None:
    """'PAY ORD-AB12CD34', 'pay ord ab12cd34' -> 'ORD-AB12CD34'."""
    match = re.fullmatch(r"(?:pay|retry|pay for) (?:order )?ord ?([a-z0-9]{8})", normalise(text))
    return f"ORD-{match.group(1).upper()}" if match else None
