"""A document's review state, derived from its record and the review threshold.

``needs-review``: the rule (``extract.review.needs_review``) has a reason and nobody accepted it;
``accepted``: a reviewer accepted it (``Document.accepted``), or a person corrected it and the rule
has nothing left to say; ``auto``: straight through, no person involved and nothing to review.

The index stores the state computed when the document was indexed (``review:needs-review``), so
the review queue is a search, not a scan of the store. A new threshold changes the state of
documents already indexed only when they are indexed again: ``ecm reindex`` recomputes it.
"""

from __future__ import annotations

from typing import Any

from ecm.config import ReviewConfig
from ecm.document import Document
from ecm.errors import NotFound
from extract.review import needs_review
from search.fields import REVIEW_STATES

__all__ = ["NEEDS_REVIEW", "ACCEPTED", "AUTO", "REVIEW_STATES", "DEFAULT_REVIEW_THRESHOLD", "QUEUE_QUERY",
           "review_state", "touched_by_person", "queued"]

NEEDS_REVIEW, ACCEPTED, AUTO = REVIEW_STATES
# What an index uses when it is given no threshold: the configuration's default.
DEFAULT_REVIEW_THRESHOLD = ReviewConfig().threshold
QUEUE_QUERY = f"review:{NEEDS_REVIEW}"  # the review queue, as a search


def touched_by_person(doc: Document) -> bool:
    """A person set the type or a field (review corrections, ``source = "user:..."``)."""
    if doc.doc_type is not None and doc.doc_type.source.startswith("user:"):
        return True
    return any(field.source.startswith("user:") for field in doc.fields.values())


def review_state(doc: Document, threshold: float) -> str:
    """One of ``REVIEW_STATES`` for ``doc`` at ``threshold``."""
    if doc.accepted is not None:
        return ACCEPTED
    if needs_review(doc, threshold):
        return NEEDS_REVIEW
    return ACCEPTED if touched_by_person(doc) else AUTO


def queued(index: Any, archive: Any, threshold: float, offset: int = 0,
           limit: int = 50) -> tuple[list[tuple[Document, list[str]]], int]:
    """One page of the review queue: the documents the index holds as ``needs-review``, each with
    its reasons at ``threshold`` read from its record (empty: the indexed state is stale, as the
    threshold changed since), and how many the index holds in all. Documents deleted since they
    were indexed are left out. The web's queue page and ``ecm review`` both read it."""
    result = index.search(QUEUE_QUERY, limit=limit, offset=offset)
    page = []
    for hit in result.hits:
        try:
            doc = archive.get(str(hit.id))
        except NotFound:
            continue
        page.append((doc, needs_review(doc, threshold)))
    return page, int(result.total)
