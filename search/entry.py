"""What gets indexed for one Document, as plain values every backend can write.

The index is derived from the store (``ecm reindex`` rebuilds it), so an entry holds only what
search needs: identity, page texts for matching and snippets, the extracted fields typed
for matching (words, whole values, days, amounts), the tags, and the review state (computed
here, with the threshold the index was given: see ``search.review_state``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation

from ecm.document import Document
from search.fields import AMOUNT_FIELDS, DATE_FIELDS, TEXT_FIELDS
from search.review_state import AUTO, DEFAULT_REVIEW_THRESHOLD, review_state

__all__ = ["IndexEntry", "entry_from_document", "source_name"]

FieldValues = dict[str, str | list[str]]


@dataclass(frozen=True)
class IndexEntry:
    id: str
    sha256: str
    source: str
    doc_type: str  # "other" when the document was never classified, like ``contract_line``
    pages: tuple[tuple[int, str], ...]  # (page number, page text), in document order
    fields: FieldValues  # extracted values as shown in a hit
    text_fields: dict[str, tuple[str, ...]]  # canonical text field -> values
    dates: dict[str, tuple[date, ...]]  # canonical date field -> parsed days
    amounts: dict[str, tuple[float, ...]]  # canonical amount field -> parsed numbers
    created_at: datetime
    tags: tuple[str, ...] = field(default=())  # lower-case, unique, sorted
    review: str = AUTO  # one of search.fields.REVIEW_STATES

    @property
    def all_dates(self) -> tuple[date, ...]:
        """Every date printed on the document, for ``date:`` ranges."""
        return tuple(day for days in self.dates.values() for day in days)

    @property
    def field_texts(self) -> tuple[str, ...]:
        """Every field value as text: lets bare words find normalised values
        (``2018-03-05``, Title-Cased party names) that the page text spells differently."""
        out: list[str] = []
        for value in self.fields.values():
            out.extend(value if isinstance(value, list) else [value])
        return tuple(out)


def source_name(source: str) -> str:
    """The file name of a source path, whichever separator the uploader's OS used."""
    return re.split(r"[\\/]", source.rstrip("\\/"))[-1] or source


def _values(value: str | list[str]) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    return tuple(item.strip() for item in items if isinstance(item, str) and item.strip())


def _parse_day(text: str) -> date | None:
    # Canonical values are ISO days; anything else stays searchable as text only.
    try:
        return date.fromisoformat(text[:10]) if len(text) >= 10 else None
    except ValueError:
        return None


def _parse_amount(text: str) -> float | None:
    try:
        number = Decimal(text.replace(" ", ""))
    except InvalidOperation:
        return None
    return float(number) if number.is_finite() else None


def _tags(tags: list[str]) -> tuple[str, ...]:
    # Normalised by ecm.tags when set; lower-cased again for records written by hand.
    return tuple(sorted({t.strip().lower() for t in tags if isinstance(t, str) and t.strip()}))


def entry_from_document(doc: Document, review_threshold: float = DEFAULT_REVIEW_THRESHOLD) -> IndexEntry | None:
    """The entry to index for ``doc``; None when it must not be indexed (not ``ok`` or no id).
    ``review_threshold`` decides the review state (the configured ``[review] threshold``)."""
    if doc.status != "ok" or not doc.id:
        return None
    fields: FieldValues = {name: fv.value for name, fv in doc.fields.items()}
    text_fields: dict[str, tuple[str, ...]] = {}
    dates: dict[str, tuple[date, ...]] = {}
    amounts: dict[str, tuple[float, ...]] = {}
    for name, fv in doc.fields.items():
        values = _values(fv.value)
        if not values:
            continue
        if name in TEXT_FIELDS:
            text_fields[name] = values
        elif name in DATE_FIELDS:
            days = tuple(d for d in map(_parse_day, values) if d is not None)
            if days:
                dates[name] = days
        elif name in AMOUNT_FIELDS:
            numbers = tuple(n for n in map(_parse_amount, values) if n is not None)
            if numbers:
                amounts[name] = numbers
    created = doc.created_at if doc.created_at.tzinfo else doc.created_at.replace(tzinfo=timezone.utc)
    return IndexEntry(
        id=doc.id,
        sha256=doc.sha256.lower(),
        source=doc.source,
        doc_type=doc.doc_type.label if doc.doc_type else "other",
        pages=tuple((page.number, page.text) for page in doc.pages),
        fields=fields,
        text_fields=text_fields,
        dates=dates,
        amounts=amounts,
        created_at=created,
        tags=_tags(doc.tags),
        review=review_state(doc, review_threshold),
    )
