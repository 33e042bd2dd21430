"""The embedded search index: tantivy in a folder, no server.

Readers never block: any number of processes may open the folder and search. Writing takes
tantivy's folder lock for the length of one ``add``/``delete``/``clear`` call and commits before
returning, so an ingest process and the web server can both write, one at a time.
"""

from __future__ import annotations

import json
import time
from contextlib import contextmanager
from itertools import chain
from pathlib import Path
from typing import Iterable, Iterator

import tantivy

from ecm.document import Document
from ecm.errors import QuerySyntaxError, SearchError
from search.entry import entry_from_document
from search.query import parse_query
from search.results import Hit, SearchHits
from search.tantivy_highlight import Highlighter
from search.tantivy_query import TantivyCompiler
from search.tantivy_schema import (
    F_ID,
    F_RECORD,
    build_schema,
    keyword_analyzer,
    register_analyzers,
    tantivy_document,
    words_analyzer,
)

__all__ = ["EmbeddedIndex", "MAX_LIMIT"]

MAX_LIMIT = 10_000  # deeper paging is a scraping job for `ecm export`, not a search
_LOCK_RETRY_S = 0.05


class EmbeddedIndex:
    """A tantivy index in ``path`` (created if missing). Implements ``search.Index``."""

    def __init__(
        self,
        path: Path | str,
        *,
        writer_heap_bytes: int = 128_000_000,
        lock_timeout_s: float = 30.0,
    ) -> None:
        self.path = Path(path)
        self._writer_heap_bytes = writer_heap_bytes
        self._lock_timeout_s = lock_timeout_s
        self._schema = build_schema()
        self._words = words_analyzer()
        self._compiler = TantivyCompiler(self._schema, self._words, keyword_analyzer())
        self._index: tantivy.Index | None = None
        self._incompatible: str | None = None  # why the folder's index cannot be used
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise SearchError(f"cannot create the index folder {self.path}: {err}") from err
        self._open()

    def __repr__(self) -> str:
        return f"EmbeddedIndex({str(self.path)!r})"

    # ------------------------------------------------------------------ opening

    def _open(self) -> None:
        try:
            index = tantivy.Index(self._schema, path=str(self.path), reuse=True)
        except ValueError as err:
            if "schema does not match" in str(err):
                # The index is derived data: an older layout is rebuilt, not migrated.
                self._incompatible = (
                    f"the search index in {self.path} was built by another version of ecm; "
                    "run `ecm reindex` to rebuild it from the store"
                )
                return
            raise SearchError(f"cannot open the search index in {self.path}: {err}") from err
        register_analyzers(index)
        self._index, self._incompatible = index, None

    def _usable(self) -> tantivy.Index:
        if self._index is None:
            raise SearchError(self._incompatible or f"the search index in {self.path} is not open")
        return self._index

    # ------------------------------------------------------------------ writing

    @contextmanager
    def _writer(self) -> Iterator[tantivy.IndexWriter]:
        index = self._usable()
        writer = self._acquire_writer(index)
        index.reload()  # the last commit of whoever held the lock before us
        try:
            yield writer
            writer.commit()
        except ValueError as err:
            writer.rollback()
            raise SearchError(f"writing to the search index in {self.path} failed: {err}") from err
        except BaseException:
            writer.rollback()
            raise
        finally:
            # Lets merges finish (else segments pile up) and releases the folder lock.
            writer.wait_merging_threads()
            index.reload()

    def _acquire_writer(self, index: tantivy.Index) -> tantivy.IndexWriter:
        deadline = time.monotonic() + self._lock_timeout_s
        while True:
            try:
                return index.writer(heap_size=self._writer_heap_bytes, num_threads=0)
            except ValueError as err:
                if "LockBusy" not in str(err):
                    raise SearchError(f"cannot write to the search index in {self.path}: {err}") from err
                if time.monotonic() >= deadline:
                    raise SearchError(
                        f"the search index in {self.path} is being written by another process "
                        f"(waited {self._lock_timeout_s:g} s); retry when it has finished"
                    ) from err
                time.sleep(_LOCK_RETRY_S)

    def add(self, docs: Iterable[Document]) -> None:
        self._usable()
        entries = (e for e in map(entry_from_document, docs) if e is not None)
        first = next(entries, None)
        if first is None:
            return  # nothing indexable: do not take the lock
        with self._writer() as writer:
            # Taken while holding the write lock, so no other process can add an id meanwhile.
            existing = self._usable().searcher()
            seen: set[str] = set()
            for entry in chain((first,), entries):
                # Upsert. A delete applies to documents added before it, so an id repeated
                # within this call is kept once (the last wins). Deleting only ids that may
                # exist keeps bulk loads (reindex) about 40% faster.
                if entry.id in seen or existing.doc_freq(F_ID, entry.id):
                    writer.delete_documents_by_term(F_ID, entry.id)
                seen.add(entry.id)
                writer.add_document(tantivy_document(entry))

    def delete(self, ids: Iterable[str]) -> None:
        wanted = [i for i in ids if i]
        if not wanted:
            return
        with self._writer() as writer:
            for doc_id in wanted:
                writer.delete_documents_by_term(F_ID, doc_id)

    def clear(self) -> None:
        if self._index is None and self._incompatible:
            self._remove_index_files()
            self._open()
            return
        with self._writer() as writer:
            writer.delete_all_documents()

    def _remove_index_files(self) -> None:
        # Only the files tantivy lists as its own: the folder may hold other things.
        managed = self.path / ".managed.json"
        try:
            names = json.loads(managed.read_text(encoding="utf-8")) if managed.exists() else []
            for name in [*names, "meta.json", ".managed.json"]:
                (self.path / Path(name).name).unlink(missing_ok=True)
        except (OSError, ValueError) as err:
            raise SearchError(
                f"cannot remove the old search index in {self.path} ({err}); "
                "delete that folder by hand and run `ecm reindex`"
            ) from err

    # ------------------------------------------------------------------ searching

    def search(self, query: str, limit: int = 10, offset: int = 0) -> SearchHits:
        started = time.perf_counter()
        if not 0 <= limit <= MAX_LIMIT or offset < 0:
            raise QuerySyntaxError(
                f"limit must be 0..{MAX_LIMIT} and offset 0 or more (got limit={limit}, offset={offset})"
            )
        node = parse_query(query)
        index = self._usable()
        compiled = self._compiler.compile(node) if node is not None else None
        if compiled is None:
            return SearchHits(total=0, hits=[], took_ms=_ms_since(started))
        try:
            index.reload()  # see other processes' commits now, not after the watcher's delay
            searcher = index.searcher()
            # tantivy refuses limit 0; fetch one hit and drop it to still get the total.
            result = searcher.search(compiled, limit=max(limit, 1), count=True, offset=offset)
            found = result.hits[:limit]
            highlighter = Highlighter(
                searcher, self._schema, self._words, self._compiler.highlight_terms(node)
            )
            hits = [self._hit(searcher, highlighter, score, address) for score, address in found]
        except ValueError as err:
            raise SearchError(f"search failed in the index in {self.path}: {err}") from err
        return SearchHits(total=result.count or 0, hits=hits, took_ms=_ms_since(started))

    @staticmethod
    def _hit(
        searcher: tantivy.Searcher, highlighter: Highlighter, score: float, address: tantivy.DocAddress
    ) -> Hit:
        record = json.loads(searcher.doc(address).get_first(F_RECORD))
        snippet, page = highlighter.snippet([(n, text) for n, text in record["pages"]])
        return Hit(
            id=record["id"],
            sha256=record["sha256"],
            source=record["source"],
            doc_type=record["doc_type"],
            score=float(score),
            snippet=snippet,
            page=page,
            fields=record["fields"],
        )


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)
