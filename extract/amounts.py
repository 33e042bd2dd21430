"""Amounts as decimal strings with two decimals (``"1234.50"``), via price-parser."""

from __future__ import annotations

import re
from decimal import Decimal

from price_parser import Price

from ecm.document import Word

__all__ = ["parse_amount", "amount_words", "format_amount"]

# A money-looking token: optional sign/currency, digits with optional thousands groups, and
# (optionally) 1-2 decimals. OCR may add stray punctuation around it.
_AMOUNT = re.compile(r"^[^\d]{0,4}-?\d{1,3}(?:[,.' ]\d{3})*(?:[.,]\d{1,2})?[^\d]{0,3}$|^[^\d]{0,4}-?\d+(?:[.,]\d{1,2})?[^\d]{0,3}$")
_HAS_DECIMALS = re.compile(r"\d[.,]\d{2}(?!\d)")
# A whole number is money when a currency stands before it ("Rs 1939", "$500", "EUR 120").
_CURRENCY = r"[$€£¥₹]|RM|Rs\.?|USD|EUR|GBP|INR|MYR|SGD|AUD|CAD"
_MARKED = re.compile(rf"^(?:{_CURRENCY})\s?\d")


def format_amount(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01')):.2f}"


def parse_amount(text: str) -> Decimal | None:
    if not _AMOUNT.match(text.strip()):
        return None
    price = Price.fromstring(text)
    if price.amount is None or price.amount < 0:
        return None
    return price.amount


def _currency_before(words: list[Word], i: int) -> bool:
    """A currency is printed right before ``words[i]``: inside it ("$500") or as the word before ("Rs 1939")."""
    return bool(_MARKED.match(words[i].text) or (i and re.fullmatch(_CURRENCY, words[i - 1].text.strip())))


def amount_words(words: list[Word], need_decimals: bool = True) -> tuple[Decimal, list[Word]] | None:
    """The first amount among ``words`` (a currency word before it is included in the box)."""
    for i, w in enumerate(words):
        if need_decimals and not _HAS_DECIMALS.search(w.text) and not _currency_before(words, i):
            continue
        if "%" in w.text:
            continue  # "Sales Tax (8.25%)": a rate, not an amount
        value = parse_amount(w.text)
        if value is None:
            continue
        used = [w]
        if i and re.fullmatch(r"[^\w\d]{1,2}|[A-Z]{2,3}|RM|Rs\.?", words[i - 1].text.strip()):
            used.insert(0, words[i - 1])
        return value, used
    return None
