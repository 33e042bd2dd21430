"""Backends chosen by configuration (``[store] kind``, ``[search] kind``), never by ``if`` in stages."""

from __future__ import annotations

from pathlib import Path

from ecm.config import Config
from ecm.errors import ConfigError
from ecm.executor import Executor, LocalExecutor
from search import EmbeddedIndex, Index
from store import Archive, FsBlobStore
from store.s3 import S3BlobStore

__all__ = ["open_archive", "open_index", "open_executor"]


def open_archive(config: Config) -> Archive:
    if config.store.kind == "fs":
        return Archive(FsBlobStore(Path(config.home) / "store"))
    if config.store.kind == "s3":
        return Archive(S3BlobStore.from_env(config.store.bucket, sse=config.store.sse,
                                            object_lock=config.store.object_lock))
    raise ConfigError(f'[store] kind = "{config.store.kind}" is not available in this version; use "fs" or "s3"')


def open_index(config: Config) -> Index:
    if config.search.kind == "embedded":
        return EmbeddedIndex(Path(config.home) / "index", review_threshold=config.review.threshold)
    if config.search.kind == "elasticsearch":
        from search.elasticsearch import ElasticsearchIndex  # the client is only loaded when used

        # The cluster and its credentials come from ECM_ES_* (environment only, never ecm.toml).
        return ElasticsearchIndex.from_env(config.search.alias, review_threshold=config.review.threshold)
    raise ConfigError(f'[search] kind = "{config.search.kind}" is not available; use "embedded" or "elasticsearch"')


def open_executor(config: Config) -> Executor:
    if config.queue.kind == "celery":
        from ecm.distributed import CeleryExecutor, redis_url  # Celery is only loaded when used

        return CeleryExecutor(redis_url(), page_timeout=config.queue.page_timeout)
    return LocalExecutor(config.ocr.workers)
