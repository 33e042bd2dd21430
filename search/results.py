"""What a search returns: the same models for every backend (``ecm search --json`` dumps them)."""

from __future__ import annotations

from pydantic import BaseModel, Field

__all__ = ["Hit", "SearchHits"]


class Hit(BaseModel):
    id: str
    sha256: str
    source: str
    doc_type: str | None
    score: float
    snippet: str  # HTML-safe: text escaped, matched words in <mark>...</mark>
    page: int | None  # page of the snippet (1-based), when known
    fields: dict[str, str | list[str]] = Field(default_factory=dict)  # extracted field values
    tags: list[str] = Field(default_factory=list)
    review: str | None = None  # review state when indexed (search.fields.REVIEW_STATES)


class SearchHits(BaseModel):
    total: int  # all matching documents, not just this page of hits
    hits: list[Hit]
    took_ms: float
