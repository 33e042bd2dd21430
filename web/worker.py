"""The mailroom's background worker: one thread in the server process that takes uploaded
batches one at a time and runs them through ``ecm.pipeline.ingest_paths`` with an
``Executor`` (so OCR still uses every core), recording each file's outcome in the
``BatchStore`` as it comes. Batches left unfinished by a restart are taken up again on start.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ecm.config import Config
from ecm.document import Document
from store import Archive
from web.batches import BatchStore, Item

__all__ = ["BatchWorker", "key_fields", "KEY_FIELDS"]

log = logging.getLogger("ecm.web.worker")

# Fields a mailroom operator checks at a glance, in this order.
KEY_FIELDS = ("vendor_name", "invoice_number", "invoice_date", "total_amount", "currency",
              "title", "parties", "effective_date")

IngestFn = Callable[..., Iterator[Any]]  # ecm.pipeline.ingest_paths' signature


def key_fields(doc: Document) -> dict[str, str]:
    out = {}
    for name in KEY_FIELDS:
        field = doc.fields.get(name)
        if field is not None and field.value:
            out[name] = "; ".join(field.value) if isinstance(field.value, list) else str(field.value)
    return out


def _default_ingest(*args: Any, **kwargs: Any) -> Iterator[Any]:
    from ecm.pipeline import ingest_paths  # imported here: it loads the classifier and OCR stack

    return ingest_paths(*args, **kwargs)


def _default_executor(config: Config) -> Any:
    from ecm.backends import open_executor

    return open_executor(config)


class BatchWorker:
    def __init__(self, config: Config, archive: Archive, index: Any, batches: BatchStore,
                 ingest: IngestFn | None = None, executor_factory: Callable[[Config], Any] | None = None):
        self.config, self.archive, self.index, self.batches = config, archive, index, batches
        self._ingest = ingest or _default_ingest
        self._executor_factory = executor_factory or _default_executor
        self._executor: Any = None
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._idle = threading.Condition()
        self._busy = 0

    # ------------------------------------------------------------------ control
    def start(self) -> None:
        """Take up batches a restart left unfinished (the thread starts with the first batch)."""
        for batch_id in self.batches.unfinished():
            self.submit(batch_id)

    def submit(self, batch_id: str) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="ecm-batch-worker", daemon=True)
            self._thread.start()
        with self._idle:
            self._busy += 1
        self._queue.put(batch_id)

    def stop(self, timeout: float = 30) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout)
            self._thread = None
        if self._executor is not None:
            self._executor.close()
            self._executor = None

    def wait_idle(self, timeout: float = 60) -> bool:
        """True when every submitted batch has been worked through (for tests and shutdown)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._busy == 0, timeout)

    # ------------------------------------------------------------------ work
    def _loop(self) -> None:
        while True:
            batch_id = self._queue.get()
            if batch_id is None:
                return
            try:
                self.run_batch(batch_id)
            except Exception:  # noqa: BLE001 - the worker must outlive any one batch
                log.exception("batch %s failed", batch_id)
            finally:
                with self._idle:
                    self._busy -= 1
                    self._idle.notify_all()

    def run_batch(self, batch_id: str) -> None:
        batch = self.batches.get(batch_id)
        if batch is None:
            return
        items = self.batches.claim_pending(batch_id)
        if not items:
            return
        by_path: dict[str, Item] = {item.path: item for item in items}
        reported: set[str] = set()
        try:
            if self._executor is None:
                self._executor = self._executor_factory(self.config)
            outcomes = self._ingest([Path(i.path) for i in items], self.config, self._executor, self.archive,
                                    self.index, actor=f"user:{batch.created_by}", split=batch.split)
            for outcome in outcomes:
                self._record(batch_id, outcome, by_path, reported)
        except Exception as err:  # noqa: BLE001 - reported per file; the batch page shows it
            log.exception("batch %s stopped", batch_id)
            reason = (str(err).strip().splitlines() or [type(err).__name__])[0]
            for path, item in by_path.items():
                if path not in reported:
                    self.batches.finish(batch_id, item.seq, "failed", reason=f"processing stopped: {reason}")
            return
        for path, item in by_path.items():
            if path not in reported:
                self.batches.finish(batch_id, item.seq, "failed", reason="the pipeline reported nothing for this file")

    def _record(self, batch_id: str, outcome: Any, by_path: dict[str, Item], reported: set[str]) -> None:
        doc: Document = outcome.doc
        upload = doc.origin.source if doc.origin is not None else doc.source  # split parts: their batch file
        item = by_path.get(upload)
        if item is None or upload in reported:  # a further document split out of one upload
            parent = item or next(iter(by_path.values()))
            seq = self.batches.add_item(batch_id, parent.name, doc.source, doc.size)
        else:
            seq = item.seq
        reported.add(upload)
        if outcome.status == "quarantined":
            self.batches.finish(batch_id, seq, "quarantined", sha256=doc.sha256, reason=doc.reason or "quarantined")
            return
        self.batches.finish(
            batch_id, seq, outcome.status, doc_id=doc.id, sha256=doc.sha256,
            doc_type=doc.doc_type.label if doc.doc_type else None,
            confidence=round(doc.doc_type.confidence, 4) if doc.doc_type else None,
            fields=key_fields(doc),
            reason=f"already stored as {doc.id}" if outcome.status == "duplicate" else None,
        )
        # The store now keeps the original (checked by its sha256): the inbox copy can go.
        remove_inbox_file(Path(upload))


def remove_inbox_file(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
        path.parent.rmdir()  # the file's own folder, when empty
    except OSError:
        pass
