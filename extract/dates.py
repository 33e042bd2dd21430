"""Finding dates in text and reading them as ISO ``YYYY-MM-DD``.

Day/month order for numeric dates such as ``03/04/2018`` is decided per document, from
evidence, in this order:
1. the document's other numeric dates: a first number > 12 proves day-first, a second number
   > 12 proves month-first (majority wins);
2. locale hints in the text (``[dates]`` in labels.toml: RM/MYR, SDN BHD, GST, VAT, EUR, GBP...
   say day-first; USD/$, LLC, Inc, a US address say month-first; more hints win);
3. otherwise day-first (most of the world writes it so; US documents usually carry hints).
A single date is read in that order when valid, else in the other order when that is valid.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import dateparser

from extract.rules import Rules

__all__ = ["DateMatch", "find_dates", "date_order", "parse_date_text"]

_MONTHS = {
    "jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4, "april": 4,
    "may": 5, "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8, "sep": 9, "sept": 9,
    "september": 9, "oct": 10, "october": 10, "nov": 11, "november": 11, "dec": 12, "december": 12,
    # a few non-English spellings seen on European invoices
    "januar": 1, "februar": 2, "märz": 3, "mai": 5, "juni": 6, "juli": 7, "oktober": 10, "dezember": 12,
    "janvier": 1, "février": 2, "mars": 3, "avril": 4, "juin": 6, "juillet": 7, "août": 8,
    "septembre": 9, "octobre": 10, "novembre": 11, "décembre": 12, "mei": 5, "okt": 10, "dez": 12,
    "januari": 1, "februari": 2, "maart": 3, "mrt": 3, "augustus": 8,
}
_MON = "|".join(sorted(_MONTHS, key=len, reverse=True))

ISO = re.compile(r"(?<!\d)((?:19|20)\d\d)[-/.](\d{1,2})[-/.](\d{1,2})(?!\d)")
# Not "MH11/2 - 10/240" (an item code): a date is not followed by "/digits".
NUMERIC = re.compile(r"(?<![\d/.-])(\d{1,2})\s?[/.-]\s?(\d{1,2})\s?[/.-]\s?(\d{4}|\d{2})(?!\d|/\d)")
DAY_MONTH = re.compile(
    # Not "Exhibit 10.1 March 15, 2016": a day never follows "10." and a two-digit "year"
    # followed by a full year is the day of a month-first date.
    rf"(?<![\w])(?<!\d\.)(\d{{1,2}})(?:st|nd|rd|th)?(?:\s+day)?(?:\s+of)?[\s.,/-]*({_MON})\.?[\s.,/-]*"
    rf"((?:19|20)\d\d|\d\d(?!\s*,?\s*(?:19|20)\d\d))(?!\d)",
    re.I,
)
MONTH_DAY = re.compile(
    rf"(?<![\w])({_MON})\.?\s*(\d{{1,2}})(?:st|nd|rd|th)?\s*,?\s*((?:19|20)\d\d)(?!\d)", re.I
)


@dataclass(frozen=True)
class DateMatch:
    start: int
    end: int
    value: str  # ISO
    ambiguous: bool  # numeric with both parts <= 12, read per the document's order


def _year(y: str) -> int:
    n = int(y)
    if len(y) == 2:
        n += 2000 if n <= 50 else 1900
    return n


def _valid(y: int, m: int, d: int) -> str | None:
    if not 1950 <= y <= 2099:
        return None
    try:
        return date(y, m, d).isoformat()
    except ValueError:
        return None


def date_order(text: str, rules: Rules) -> str:
    """``"DMY"`` or ``"MDY"`` for this document (see the module docstring)."""
    votes = 0
    for m in NUMERIC.finditer(text):
        a, b = int(m.group(1)), int(m.group(2))
        seps = re.findall(r"[/.-]", m.group(0))
        year = m.group(3)
        if " " in m.group(0) or seps[0] != seps[1] or (len(year) == 4 and not 1950 <= int(year) <= 2099):
            continue  # "12 - 20/1000", "10.85 .65": not a date, so no vote
        if a > 12 and 1 <= b <= 12:
            votes += 1
        elif b > 12 and 1 <= a <= 12:
            votes -= 1
    if votes:
        return "DMY" if votes > 0 else "MDY"
    low = " " + re.sub(r"\s+", " ", text.lower()) + " "

    def count(hints) -> int:
        n = 0
        for h in hints:
            if h.isalpha() or " " in h or "." in h:
                n += len(re.findall(rf"(?<![\w]){re.escape(h)}(?![\w])", low))
            else:
                # A currency sign counts next to an amount only: OCR reads "S" as "$" in words.
                n += len(re.findall(rf"{re.escape(h)}\s?\d", low))
        return n

    day, month = count(rules.day_first_hints), count(rules.month_first_hints)
    if re.search(r"\b[A-Z]{2} \d{5}(?:-\d{4})?\b", text):  # US state + ZIP code
        month += 3
    return "MDY" if month > day else "DMY"


def find_dates(text: str, order: str) -> list[DateMatch]:
    """Every date in ``text``, in text order (overlapping readings keep the first found)."""
    found: list[DateMatch] = []
    taken: list[tuple[int, int]] = []

    def add(m: re.Match, value: str | None, ambiguous: bool = False) -> None:
        if value and not any(s < m.end() and m.start() < e for s, e in taken):
            found.append(DateMatch(m.start(), m.end(), value, ambiguous))
            taken.append((m.start(), m.end()))

    for m in ISO.finditer(text):
        add(m, _valid(int(m.group(1)), int(m.group(2)), int(m.group(3))))
    for m in DAY_MONTH.finditer(text):
        add(m, _valid(_year(m.group(3)), _MONTHS[m.group(2).lower()], int(m.group(1))))
    for m in MONTH_DAY.finditer(text):
        add(m, _valid(_year(m.group(3)), _MONTHS[m.group(1).lower()], int(m.group(2))))
    for m in NUMERIC.finditer(text):
        a, b, y = int(m.group(1)), int(m.group(2)), _year(m.group(3))
        first, second = ((b, a), (a, b)) if order == "DMY" else ((a, b), (b, a))
        value = _valid(y, *first) or _valid(y, *second)
        add(m, value, ambiguous=a <= 12 and b <= 12 and a != b)
    found.sort(key=lambda d: d.start)
    return found


def parse_date_text(text: str, order: str) -> str | None:
    """One date written any way (dateparser for the unusual spellings), as ISO."""
    hits = find_dates(text, order)
    if hits:
        return hits[0].value
    parsed = dateparser.parse(text, settings={"DATE_ORDER": order, "STRICT_PARSING": True},
                              languages=["en", "de", "fr", "nl"])
    if parsed and 1950 <= parsed.year <= 2099:
        return parsed.date().isoformat()
    return None
