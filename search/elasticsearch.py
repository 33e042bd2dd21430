"""The scale-out search index: Elasticsearch (8.x/9.x API) through the official ``elasticsearch`` client.

Implements ``search.Index`` with the same query language and the same results as the embedded
index (the contract suite in ``tests/test_search.py`` runs against both). Layout:
``search.es_mapping``; query compilation: ``search.es_query``; snippets: ``search.es_highlight``;
error messages: ``search.es_errors``. Configuring a real cluster: ``search/ELASTICSEARCH.md``.

Searches and writes go through an alias (``ecm`` by default); the physical index behind it is
``<alias>-<timestamp>``. ``rebuild`` loads a new physical index and swaps the alias atomically,
so ``ecm reindex`` never shows an empty or half-built index. Writes are refreshed before they
return (read-your-writes, as the embedded index), which suits ecm's rate of ingest (OCR-bound);
``refresh=False`` leaves it to the index's refresh interval (1 s) for bulk feeds.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timezone
from itertools import chain
from typing import Any

import elasticsearch
from elasticsearch import helpers

from ecm.document import Document
from ecm.errors import ConfigError, QuerySyntaxError, SearchError
from search.entry import entry_from_document
from search.review_state import DEFAULT_REVIEW_THRESHOLD
from search.es_errors import is_missing_index, server_urls, translated_errors
from search.es_highlight import highlight_request, snippet_for_hit
from search.es_mapping import (
    F_DOC_TYPE,
    F_ID,
    F_REVIEW,
    F_TAGS,
    F_YEARS,
    HIT_SOURCE_FIELDS,
    es_document,
    facet_subfield,
    index_mappings,
    index_settings,
)
from search.es_query import EsQueryCompiler
from search.query import parse_query
from search.results import Hit, SearchHits

__all__ = ["ElasticsearchIndex", "MAX_LIMIT", "MAX_RESULT_WINDOW", "FACETS", "DEFAULT_URL"]

MAX_LIMIT = 10_000  # as the embedded index
MAX_RESULT_WINDOW = 10_000  # Elasticsearch's index.max_result_window: offset + limit may not exceed it
DEFAULT_URL = "http://127.0.0.1:9200"
# Facet name -> the aggregation that counts it.
FACETS: dict[str, dict[str, Any]] = {
    "doc_type": {"terms": {"field": F_DOC_TYPE}},
    "vendor": {"terms": {"field": facet_subfield("vendor_name")}},
    "year": {"terms": {"field": F_YEARS, "order": {"_key": "desc"}}},
    "tags": {"terms": {"field": F_TAGS}},
    "review": {"terms": {"field": F_REVIEW}},
}
_BY_COUNT = ("tags", "review")  # facets shown most frequent first, ties by name (as the embedded index)
# Index names: lower case, no \ / * ? " < > | , # : or space, not starting with - _ +.
_INDEX_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,200}")


class ElasticsearchIndex:
    """Documents in the Elasticsearch index behind ``alias``. Implements ``search.Index``.

    ``client`` is a configured ``elasticsearch.Elasticsearch`` (``from_env`` builds one from
    ``ECM_ES_*``); ``shards`` / ``replicas`` apply when a physical index is created (replicas
    None: the cluster's default); ``chunk_size`` is documents per bulk request; ``review_threshold``
    is the ``[review] threshold`` the review state of each added document is computed with."""

    def __init__(
        self,
        client: elasticsearch.Elasticsearch,
        alias: str = "ecm",
        *,
        shards: int = 1,
        replicas: int | None = None,
        refresh: bool = True,
        chunk_size: int = 500,
        review_threshold: float = DEFAULT_REVIEW_THRESHOLD,
    ) -> None:
        if not _INDEX_NAME.fullmatch(alias) or alias in (".", ".."):
            raise ConfigError(
                f"[search] alias = {alias!r} is not a valid Elasticsearch index name: use lower-case "
                f"letters, digits, '-', '_' and '.', starting with a letter or digit"
            )
        self.client = client
        self.alias = alias
        self._shards = shards
        self._replicas = replicas
        self._refresh = refresh
        self._chunk_size = chunk_size
        self.review_threshold = review_threshold
        self._compiler = EsQueryCompiler()
        self._alias_ready = False  # known to exist (checked once per instance)

    def __repr__(self) -> str:
        return f"ElasticsearchIndex({server_urls(self.client)!r}, alias={self.alias!r})"

    @classmethod
    def from_env(
        cls, alias: str = "ecm", *, env: Mapping[str, str] | None = None, **options: Any
    ) -> ElasticsearchIndex:
        """Connect with ``ECM_ES_URL`` (default ``http://127.0.0.1:9200``; several nodes: comma-separated),
        ``ECM_ES_USERNAME`` + ``ECM_ES_PASSWORD`` or ``ECM_ES_API_KEY``, and ``ECM_ES_CA_CERTS`` (a CA
        bundle for https). Credentials come from the environment only. ``options`` go to the constructor."""
        env = os.environ if env is None else env
        urls = [u.strip().rstrip("/") for u in env.get("ECM_ES_URL", DEFAULT_URL).split(",") if u.strip()]
        for url in urls:
            if not url.startswith(("http://", "https://")):
                raise ConfigError(
                    f"ECM_ES_URL={url!r}: write a URL such as http://127.0.0.1:9200 or https://es.example:9200"
                )
        username, password = env.get("ECM_ES_USERNAME", ""), env.get("ECM_ES_PASSWORD", "")
        api_key = env.get("ECM_ES_API_KEY", "")
        if bool(username) != bool(password):
            raise ConfigError("set both ECM_ES_USERNAME and ECM_ES_PASSWORD (or ECM_ES_API_KEY instead)")
        if api_key and username:
            raise ConfigError("set either ECM_ES_API_KEY or ECM_ES_USERNAME/ECM_ES_PASSWORD, not both")
        kwargs: dict[str, Any] = {"request_timeout": 30, "retry_on_timeout": True, "max_retries": 2}
        if username:
            kwargs["basic_auth"] = (username, password)
        if api_key:
            kwargs["api_key"] = api_key
        ca_certs = env.get("ECM_ES_CA_CERTS", "")
        if ca_certs:
            if not os.path.isfile(ca_certs):
                raise ConfigError(
                    f"ECM_ES_CA_CERTS={ca_certs!r} is not a file; name the CA certificate (PEM) of the cluster"
                )
            kwargs["ca_certs"] = ca_certs
        return cls(elasticsearch.Elasticsearch(urls or [DEFAULT_URL], **kwargs), alias, **options)

    # ------------------------------------------------------------------ the physical index

    def _new_index_name(self) -> str:
        # Microseconds: two rebuilds within one second (tests, scripts) still get distinct names.
        return f"{self.alias}-{datetime.now(timezone.utc):%Y%m%d%H%M%S%f}"

    def _create_index(self, name: str, *, with_alias: bool, bulk_load: bool = False) -> None:
        settings = index_settings(self._shards, self._replicas)
        if bulk_load:
            settings["refresh_interval"] = "-1"  # one refresh at the end instead of one per second
        self.client.indices.create(
            index=name,
            settings=settings,
            mappings=index_mappings(),
            aliases={self.alias: {}} if with_alias else None,
        )

    def _indices_behind_alias(self) -> list[str]:
        try:
            return sorted(self.client.indices.get_alias(name=self.alias).body)
        except elasticsearch.NotFoundError:
            return []

    def _ensure_alias(self) -> None:
        """Create the first physical index and the alias, unless they exist."""
        if self._alias_ready:
            return
        if not self.client.indices.exists_alias(name=self.alias):
            if self.client.indices.exists(index=self.alias):
                raise SearchError(
                    f"{server_urls(self.client)} has an index named {self.alias!r} that is not an alias; "
                    f"ecm needs that name for its alias: delete or rename that index, or set [search] alias"
                )
            mine = self._new_index_name()
            self._create_index(mine, with_alias=True)
            # Two processes starting on an empty cluster may both get here: the alias then points at
            # two indexes and writes would fail. The first name wins; the others remove themselves.
            behind = self._indices_behind_alias()
            if len(behind) > 1 and behind[0] != mine:
                self.client.options(ignore_status=404).indices.delete(index=mine)
        else:
            self._add_missing_fields()
        self._alias_ready = True

    def _add_missing_fields(self) -> None:
        """An index made by an older ecm lacks the fields added since (``review``), and its
        mapping is strict: add them (a mapping may gain fields). Documents indexed before have
        no value for them until ``ecm reindex``."""
        wanted = index_mappings()["properties"]
        for name, body in self.client.indices.get_mapping(index=self.alias).body.items():
            have = body.get("mappings", {}).get("properties", {})
            missing = {field: spec for field, spec in wanted.items() if field not in have}
            if missing:
                self.client.indices.put_mapping(index=name, properties=missing)

    # ------------------------------------------------------------------ writing

    def _actions(self, docs: Iterable[Document], index: str) -> Iterator[dict[str, Any]]:
        for entry in (entry_from_document(doc, self.review_threshold) for doc in docs):
            if entry is not None:
                # Indexing with the document id as _id replaces (upserts); a repeated id within one
                # call is applied in order, so the last one wins, as in the embedded index.
                yield {"_op_type": "index", "_index": index, "_id": entry.id, "_source": es_document(entry)}

    def _bulk(self, actions: Iterable[dict[str, Any]], **options: Any) -> int:
        done = 0
        for ok, _ in helpers.streaming_bulk(self.client, actions, chunk_size=self._chunk_size, **options):
            done += ok
        return done

    def add(self, docs: Iterable[Document]) -> None:
        actions = self._actions(docs, self.alias)
        first = next(actions, None)
        if first is None:
            return  # nothing indexable: do not create anything
        with translated_errors("index documents", self.client, self.alias):
            self._ensure_alias()
            # require_alias: if the alias vanished meanwhile, fail instead of letting Elasticsearch
            # auto-create a concrete index with that name and a guessed mapping.
            self._bulk(chain((first,), actions), require_alias=True)
            if self._refresh:
                self.client.indices.refresh(index=self.alias)

    def delete(self, ids: Iterable[str]) -> None:
        wanted = [i for i in ids if i]
        if not wanted:
            return
        actions = ({"_op_type": "delete", "_index": self.alias, "_id": i} for i in wanted)
        with translated_errors("delete documents", self.client, self.alias):
            if not self.client.indices.exists_alias(name=self.alias):
                return  # never indexed: nothing to delete
            self._bulk(actions, require_alias=True, ignore_status=(404,))  # unknown ids are ignored
            if self._refresh:
                self.client.indices.refresh(index=self.alias)

    def clear(self) -> None:
        """Drop every document: an empty physical index replaces the current one behind the alias."""
        self.rebuild(())

    def rebuild(self, docs: Iterable[Document]) -> int:
        """Replace the whole index with ``docs`` without downtime; returns how many were indexed.

        The documents go into a new physical index while searches keep using the old one; then
        one ``update_aliases`` call moves the alias (remove + add: atomic) and the old index is
        deleted. If loading fails, the new index is deleted and the old one stays in service.
        Documents added through the alias while a rebuild runs go to the old index and are lost
        with it: rebuild when nothing is being ingested (``ecm reindex`` reads the store anyway)."""
        new = self._new_index_name()
        with translated_errors("rebuild the index", self.client, self.alias):
            self._create_index(new, with_alias=False, bulk_load=True)
            try:
                count = self._bulk(self._actions(docs, new))
                # Back to the default refresh interval, so later adds become visible on their own too.
                self.client.indices.put_settings(index=new, settings={"index": {"refresh_interval": None}})
                self.client.indices.refresh(index=new)
                old = self._indices_behind_alias()
                self.client.indices.update_aliases(
                    actions=[{"remove": {"index": name, "alias": self.alias}} for name in old]
                    + [{"add": {"index": new, "alias": self.alias}}]
                )
            except BaseException:
                self.client.options(ignore_status=404).indices.delete(index=new)
                raise
            for name in old:
                self.client.options(ignore_status=404).indices.delete(index=name)
        self._alias_ready = True
        return count

    # ------------------------------------------------------------------ searching

    def search(self, query: str, limit: int = 10, offset: int = 0) -> SearchHits:
        started = time.perf_counter()
        if not 0 <= limit <= MAX_LIMIT or offset < 0:
            raise QuerySyntaxError(
                f"limit must be 0..{MAX_LIMIT} and offset 0 or more (got limit={limit}, offset={offset})"
            )
        if offset + limit > MAX_RESULT_WINDOW:
            raise QuerySyntaxError(
                f"offset + limit may be at most {MAX_RESULT_WINDOW} with Elasticsearch (got {offset + limit}); "
                "narrow the query, or use `ecm export` for everything"
            )
        node = parse_query(query)
        compiled = self._compiler.compile(node) if node is not None else None
        if compiled is None:
            return SearchHits(total=0, hits=[], took_ms=_ms_since(started))
        body: dict[str, Any] = {
            "query": compiled,
            "from_": offset,
            "size": limit,
            # Ties (pure filters score 0) in a stable order, so paging neither repeats nor skips.
            "sort": [{"_score": "desc"}, {F_ID: "asc"}],
            "track_scores": True,
            "track_total_hits": True,  # an exact total, as the embedded index counts
            "source": {"includes": HIT_SOURCE_FIELDS},
        }
        marks = self._compiler.highlight_query(node)
        if marks is not None and limit:
            body["highlight"] = highlight_request(marks)
        with translated_errors("search", self.client, self.alias):
            try:
                response = self.client.search(index=self.alias, **body)
            except elasticsearch.NotFoundError as err:
                if is_missing_index(err):  # nothing was ever indexed under this alias
                    return SearchHits(total=0, hits=[], took_ms=_ms_since(started))
                raise
        found = response.body["hits"]
        hits = [_hit(raw) for raw in found["hits"]]
        return SearchHits(total=found["total"]["value"], hits=hits, took_ms=_ms_since(started))

    def facets(self, query: str = "", size: int = 10) -> dict[str, list[tuple[str, int]]]:
        """Counts of the matching documents by document type, vendor, year (of the invoice or
        effective date), tag and review state: ``{"doc_type": [("invoice", 120), ...], ...}``,
        most frequent first (years: latest first). An empty query counts every document (browsing)."""
        node = parse_query(query)
        compiled = self._compiler.compile(node) if node is not None else None
        if node is not None and compiled is None:
            return {name: [] for name in FACETS}
        aggs = {name: {"terms": {**agg["terms"], "size": size}} for name, agg in FACETS.items()}
        with translated_errors("count facets", self.client, self.alias):
            try:
                response = self.client.search(
                    index=self.alias, query=compiled or {"match_all": {}}, size=0, aggs=aggs, track_total_hits=False
                )
            except elasticsearch.NotFoundError as err:
                if is_missing_index(err):
                    return {name: [] for name in FACETS}
                raise
        buckets = response.body.get("aggregations", {})
        counts = {
            name: [(str(b["key"]), int(b["doc_count"])) for b in buckets.get(name, {}).get("buckets", [])]
            for name in FACETS
        }
        for name in _BY_COUNT:
            counts[name].sort(key=lambda item: (-item[1], item[0]))
        return counts


def _hit(raw: dict[str, Any]) -> Hit:
    source = raw.get("_source", {})
    snippet, page = snippet_for_hit(source, raw.get("highlight"))
    return Hit(
        id=source[F_ID],
        sha256=source["sha256"],
        source=source["source"],
        doc_type=source.get("doc_type"),
        score=float(raw.get("_score") or 0.0),
        snippet=snippet,
        page=page,
        fields=source.get("fields") or {},
        tags=source.get(F_TAGS) or [],
        review=source.get(F_REVIEW),
    )


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)
