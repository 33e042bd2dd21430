"""The embedded search index: tantivy in a folder, no server.

Readers never block: any number of processes may open the folder and search. Writing takes
tantivy's folder lock for the length of one ``add``/``delete``/``clear`` call and commits before
returning, so an ingest process and the web server can both write, one at a time.
"""

from __future__ import annotations

import json
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from itertools import chain
from pathlib import Path
from typing import Iterable, Iterator

import tantivy

from ecm.document import DOC_TYPES, Document
from ecm.errors import QuerySyntaxError, SearchError
from search.entry import entry_from_document
from search.review_state import DEFAULT_REVIEW_THRESHOLD
from search.query import parse_query
from search.results import Hit, SearchHits
from search.tantivy_highlight import Highlighter
from search.tantivy_query import TantivyCompiler
from search.tantivy_schema import (
    F_ANY_DATE,
    F_DOC_TYPE,
    F_ID,
    F_RECORD,
    F_REVIEW,
    F_TAGS,
    build_schema,
    exact_field,
    normalise_keyword,
    keyword_analyzer,
    register_analyzers,
    tantivy_document,
    words_analyzer,
)

__all__ = ["EmbeddedIndex", "MAX_LIMIT", "SORTS", "FACET_NAMES"]

MAX_LIMIT = 10_000  # deeper paging is a scraping job for `ecm export`, not a search
# sort name -> (fast field, descending); "relevance" is the score. Dates: any date printed on
# the document (``date:``); amounts: ``total_amount``.
SORTS: dict[str, tuple[str, bool] | None] = {
    "relevance": None,
    "date_desc": ("date", True),
    "date_asc": ("date", False),
    "amount_desc": ("total_amount", True),
    "amount_asc": ("total_amount", False),
}
FACET_NAMES = ("doc_type", "vendor", "year", "tags", "review")
# Vendors are not a fast field: candidates come from the stored records of the best matches
# (this many), then each candidate is counted exactly over the whole matching set.
FACET_VENDOR_SAMPLE = 500
_LOCK_RETRY_S = 0.05


class EmbeddedIndex:
    """A tantivy index in ``path`` (created if missing). Implements ``search.Index``.

    ``review_threshold`` is the ``[review] threshold`` the review state of each added document
    is computed with (``search.review_state``)."""

    def __init__(
        self,
        path: Path | str,
        *,
        writer_heap_bytes: int = 128_000_000,
        lock_timeout_s: float = 30.0,
        review_threshold: float = DEFAULT_REVIEW_THRESHOLD,
    ) -> None:
        self.path = Path(path)
        self.review_threshold = review_threshold
        self._writer_heap_bytes = writer_heap_bytes
        self._lock_timeout_s = lock_timeout_s
        self._schema = build_schema()
        self._words = words_analyzer()
        self._keyword = keyword_analyzer()
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
        entries = (e for e in (entry_from_document(d, self.review_threshold) for d in docs) if e is not None)
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

    def search(self, query: str, limit: int = 10, offset: int = 0, sort: str = "relevance") -> SearchHits:
        """``sort``: one of ``SORTS`` (relevance, date_desc, date_asc, amount_desc, amount_asc).
        Sorted by a date or amount, documents without one come last and hits score 0."""
        started = time.perf_counter()
        if not 0 <= limit <= MAX_LIMIT or offset < 0:
            raise QuerySyntaxError(
                f"limit must be 0..{MAX_LIMIT} and offset 0 or more (got limit={limit}, offset={offset})"
            )
        if sort not in SORTS:
            raise QuerySyntaxError(f"unknown sort {sort!r}: use one of {', '.join(SORTS)}")
        node = parse_query(query)
        index = self._usable()
        compiled = self._compiler.compile(node) if node is not None else None
        if compiled is None:
            return SearchHits(total=0, hits=[], took_ms=_ms_since(started))
        try:
            index.reload()  # see other processes' commits now, not after the watcher's delay
            searcher = index.searcher()
            # tantivy refuses limit 0; fetch one hit and drop it to still get the total.
            if SORTS[sort] is None:
                result = searcher.search(compiled, limit=max(limit, 1), count=True, offset=offset)
                found = result.hits[:limit]
            else:
                result, found = self._sorted(searcher, compiled, limit, offset, *SORTS[sort])
            highlighter = Highlighter(
                searcher, self._schema, self._words, self._compiler.highlight_terms(node)
            )
            hits = [self._hit(searcher, highlighter, score, address) for score, address in found]
        except ValueError as err:
            raise SearchError(f"search failed in the index in {self.path}: {err}") from err
        return SearchHits(total=result.count or 0, hits=hits, took_ms=_ms_since(started))

    def _sorted(self, searcher: tantivy.Searcher, compiled: tantivy.Query, limit: int, offset: int,
                field: str, descending: bool) -> tuple[tantivy.SearchResult, list]:
        """Hits ordered by a fast field, documents without a value after all that have one
        (tantivy would put them first in ascending order)."""
        order = tantivy.Order.Desc if descending else tantivy.Order.Asc
        with_value = tantivy.Query.boolean_query([
            (tantivy.Occur.Must, compiled),
            (tantivy.Occur.Must, tantivy.Query.exists_query(field)),
        ])
        result = searcher.search(with_value, limit=max(limit, 1), count=True, offset=offset,
                                 order_by_field=field, order=order)
        found = [(0.0, address) for _, address in result.hits[:limit]]
        valued = result.count or 0
        total = searcher.search(compiled, limit=1, count=True)
        if len(found) < limit and (total.count or 0) > valued:
            rest_offset = max(0, offset - valued)
            missing = tantivy.Query.boolean_query([
                (tantivy.Occur.Must, compiled),
                (tantivy.Occur.MustNot, tantivy.Query.exists_query(field)),
            ])
            more = searcher.search(missing, limit=limit - len(found), count=False, offset=rest_offset)
            found += [(0.0, address) for _, address in more.hits]
        return total, found

    # ------------------------------------------------------------------ facets

    def facets(self, query: str = "", size: int = 10) -> dict[str, list[tuple[str, int]]]:
        """Counts of the matching documents by document type, vendor, year (of any date on the
        document), tag and review state: ``{"doc_type": [("invoice", 120), ...], ...}``, most
        frequent first (years: latest first). An empty query counts every document (browsing).

        Types are counted exactly (one count per type), years with a range aggregation on the
        ``date`` fast field, tags and review states with terms aggregations on their fast
        fields; vendor candidates come from the best ``FACET_VENDOR_SAMPLE`` matches' records
        and each is then counted exactly."""
        node = parse_query(query) if query.strip() else None
        index = self._usable()
        if node is None and query.strip():
            return {name: [] for name in FACET_NAMES}
        compiled = self._compiler.compile(node) if node is not None else tantivy.Query.all_query()
        if compiled is None:
            return {name: [] for name in FACET_NAMES}
        try:
            index.reload()
            searcher = index.searcher()
            return {
                "doc_type": self._type_counts(searcher, compiled)[:size],
                "vendor": self._vendor_counts(searcher, compiled, size),
                "year": self._year_counts(searcher, compiled)[:size],
                "tags": self._terms(searcher, compiled, F_TAGS, size),
                "review": self._terms(searcher, compiled, F_REVIEW, size),
            }
        except ValueError as err:
            raise SearchError(f"counting facets failed in the index in {self.path}: {err}") from err

    def _count(self, searcher: tantivy.Searcher, compiled: tantivy.Query, also: tantivy.Query) -> int:
        both = tantivy.Query.boolean_query([(tantivy.Occur.Must, compiled), (tantivy.Occur.Must, also)])
        return searcher.search(both, limit=1, count=True).count or 0

    def _type_counts(self, searcher: tantivy.Searcher, compiled: tantivy.Query) -> list[tuple[str, int]]:
        counts = []
        for label in DOC_TYPES:
            term = tantivy.Query.term_query(self._schema, F_DOC_TYPE, label, index_option="basic")
            count = self._count(searcher, compiled, term)
            if count:
                counts.append((label, count))
        return sorted(counts, key=lambda item: (-item[1], item[0]))

    @staticmethod
    def _terms(searcher: tantivy.Searcher, compiled: tantivy.Query, field: str, size: int) -> list[tuple[str, int]]:
        # Per-segment top terms merged, as Elasticsearch does per shard: counts shown are exact,
        # a rare value beyond the top ``size`` may be left out.
        result = searcher.aggregate(compiled, {"terms": {"terms": {"field": field, "size": size}}})
        counts = [(str(b["key"]), int(b["doc_count"])) for b in result.get("terms", {}).get("buckets", [])
                  if b.get("doc_count")]
        return sorted(counts, key=lambda item: (-item[1], item[0]))[:size]

    def _year_counts(self, searcher: tantivy.Searcher, compiled: tantivy.Query) -> list[tuple[str, int]]:
        bounds = searcher.aggregate(compiled, {"lo": {"min": {"field": F_ANY_DATE}},
                                               "hi": {"max": {"field": F_ANY_DATE}}})
        lo, hi = (bounds.get(k, {}).get("value") for k in ("lo", "hi"))
        if lo is None or hi is None:
            return []
        first = datetime.fromtimestamp(lo / 1e9, timezone.utc).year
        last = datetime.fromtimestamp(hi / 1e9, timezone.utc).year
        first = max(first, last - 200)  # a misread "0201" must not make 1,800 buckets
        ranges = [{"key": str(year), "from": _ns(year), "to": _ns(year + 1)} for year in range(first, last + 1)]
        result = searcher.aggregate(compiled, {"years": {"range": {"field": F_ANY_DATE, "ranges": ranges}}})
        buckets = result.get("years", {}).get("buckets", [])
        counts = [(str(b["key"]), int(b["doc_count"])) for b in buckets
                  if b.get("doc_count") and str(b.get("key", "")).isdigit()]
        return sorted(counts, key=lambda item: item[0], reverse=True)

    def _vendor_counts(self, searcher: tantivy.Searcher, compiled: tantivy.Query, size: int
                       ) -> list[tuple[str, int]]:
        # The most frequent vendors among the best matches are the candidates; each candidate
        # is then counted over the whole matching set, so every count shown is exact (a vendor
        # rare among the best matches but frequent further down can be missed).
        sample = searcher.search(compiled, limit=FACET_VENDOR_SAMPLE, count=False)
        frequency: dict[str, int] = {}
        shown: dict[str, str] = {}  # analysed whole value -> the spelling shown
        for _, address in sample.hits:
            record = json.loads(searcher.doc(address).get_first(F_RECORD))
            value = record["fields"].get("vendor_name")
            for name in (value if isinstance(value, list) else [value]):
                key = self._keyword_term(name) if isinstance(name, str) else ""
                if key:
                    frequency[key] = frequency.get(key, 0) + 1
                    shown.setdefault(key, normalise_keyword(name))
        candidates = sorted(frequency, key=lambda k: (-frequency[k], k))[:2 * size]
        counts = []
        for key in candidates:
            term = tantivy.Query.term_query(self._schema, exact_field("vendor_name"), key, index_option="basic")
            count = self._count(searcher, compiled, term)
            if count:
                counts.append((shown[key], count))
        return sorted(counts, key=lambda item: (-item[1], item[0].lower()))[:size]

    def _keyword_term(self, value: str) -> str:
        analysed = self._keyword.analyze(normalise_keyword(value))
        return analysed[0] if analysed else ""

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
            tags=record.get("tags", []),
            review=record.get("review"),
        )


def _ns(year: int) -> int:
    return int(datetime(year, 1, 1, tzinfo=timezone.utc).timestamp()) * 1_000_000_000


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)
