"""The search index interface. The embedded (tantivy) index implements it; an Elasticsearch
backend will implement the same four methods and pass the same contract tests."""

from __future__ import annotations

from typing import Iterable, Protocol, runtime_checkable

from ecm.document import Document
from search.results import SearchHits

__all__ = ["Index"]


@runtime_checkable
class Index(Protocol):
    def add(self, docs: Iterable[Document]) -> None:
        """Index documents, replacing any entry with the same ``doc.id``. Documents that are
        not ``ok`` or have no id are skipped. Visible to searches when this returns."""

    def delete(self, ids: Iterable[str]) -> None:
        """Remove documents by id; unknown ids are ignored."""

    def search(self, query: str, limit: int = 10, offset: int = 0) -> SearchHits:
        """Run a query (syntax: ``search/QUERY.md``). Raises ``QuerySyntaxError`` for bad syntax."""

    def clear(self) -> None:
        """Drop every document (``ecm reindex`` then adds them again from the store)."""
