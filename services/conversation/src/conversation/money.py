"""Money as an integer in the currency's smallest unit, and how it reads to a person."""

from __future__ import annotations

_SYMBOLS = {"NGN": "₦", "GHS": "GH₵", "ZAR": "R", "KES": "KSh", "USD": "$"}


def format_money(amount_minor: int, currency: str) -> str:
    """5000000, 'NGN' -> '₦50,000'; 5050, 'NGN' -> '₦50.50'."""
    symbol = _SYMBOLS.get(currency, currency + " ")
    major, minor = divmod(abs(amount_minor), 100)
    sign = "-" if amount_minor < 0 else ""
    text = f"{major:,}" if minor == 0 else f"{major:,}.{minor:02d}"
    return f"{sign}{symbol}{text}"
