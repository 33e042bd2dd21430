"""Bates numbers: a prefix and a zero-padded page number (``ABC000001``), one per page.
A document's range runs from its first page's number to its last page's."""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["BATES_PREFIX", "BATES_WIDTH", "bates", "assign_bates", "check_prefix", "bates_pages"]

BATES_PREFIX = re.compile(r"^[A-Z][A-Z0-9_-]{0,19}$")
BATES_WIDTH = 6


def check_prefix(prefix: str) -> str | None:
    """Why ``prefix`` cannot be a Bates prefix, or None."""
    if not BATES_PREFIX.fullmatch(prefix):
        return "The Bates prefix must be 1-20 capital letters, digits, '_' or '-', starting with a letter (ABC, SMITH-)."
    return None


def bates(prefix: str, number: int, width: int = BATES_WIDTH) -> str:
    if number < 1:
        raise ValueError("Bates numbers start at 1")
    return f"{prefix}{number:0{width}d}"


def assign_bates(page_counts: Sequence[int], prefix: str, start: int = 1,
                 width: int = BATES_WIDTH) -> list[tuple[str, str]]:
    """``(begin, end)`` for documents of these page counts, numbered on from ``start``; a
    document without pages still takes one number (its slip sheet)."""
    out = []
    number = start
    for count in page_counts:
        pages = max(1, int(count))
        out.append((bates(prefix, number, width), bates(prefix, number + pages - 1, width)))
        number += pages
    return out


def bates_pages(begin: str, end: str) -> list[str]:
    """Every page's number from ``begin`` to ``end`` (same prefix and width)."""
    m1, m2 = re.fullmatch(r"(.*?)(\d+)", begin), re.fullmatch(r"(.*?)(\d+)", end)
    if not m1 or not m2 or m1.group(1) != m2.group(1):
        raise ValueError(f"not a Bates range: {begin}..{end}")
    width = len(m1.group(2))
    return [bates(m1.group(1), n, width) for n in range(int(m1.group(2)), int(m2.group(2)) + 1)]
