"""The one place where work runs in parallel: a pool of worker processes for page OCR.

Tesseract is single-threaded here (``OMP_THREAD_LIMIT=1``: its own threading is 8-9x slower on
these machines), so throughput comes from one process per core. Pages of several documents are
in flight at once, so a batch of one-page receipts keeps every core busy as well as one long
scanned contract does. Each worker (and the Tesseract/poppler processes it starts) has a
memory ceiling, so no input can exhaust the machine.
"""

from __future__ import annotations

import os
import resource
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from typing import Any, Protocol, TypeVar

__all__ = ["Executor", "LocalExecutor", "available_cores", "WorkerCrashed", "init_worker_process"]

K = TypeVar("K")

WORKER_MEMORY_BYTES = 6 * 2**30


class WorkerCrashed(Exception):
    """A worker process died (killed for memory, or crashed) while working on a group."""


def available_cores() -> int:
    # With OMP_THREAD_LIMIT=1, `nproc` prints 1; the affinity mask tells the truth.
    return max(1, len(os.sched_getaffinity(0)))


class Executor(Protocol):
    """Runs groups of jobs (one group = the pages of one document); chosen by ``[queue] kind``:
    ``LocalExecutor`` (a process pool on this machine) or ``ecm.distributed.CeleryExecutor``
    (``ecm worker`` processes on any number of machines, through Redis)."""

    def map_groups(
        self, groups: Iterable[tuple[K, list[Any]]], fn: Callable[[Any], Any], window: int = 0
    ) -> Iterator[tuple[K, list[Any] | BaseException]]: ...
    def close(self) -> None: ...
    def __enter__(self) -> "LocalExecutor": ...
    def __exit__(self, *exc: object) -> None: ...


def init_worker_process() -> None:
    """Every worker process, local or Celery: Tesseract single-threaded, a memory ceiling."""
    os.environ["OMP_THREAD_LIMIT"] = "1"
    try:
        resource.setrlimit(resource.RLIMIT_AS, (WORKER_MEMORY_BYTES, WORKER_MEMORY_BYTES))
    except (ValueError, OSError):  # pragma: no cover - platform without the limit
        pass


class LocalExecutor:
    """Runs groups of jobs on a process pool on this machine and yields each group's results
    in input order, keeping a bounded number of groups in flight."""

    def __init__(self, workers: int = 0):
        os.environ["OMP_THREAD_LIMIT"] = "1"
        self.workers = workers or available_cores()
        self._pool: ProcessPoolExecutor | None = None

    def _get_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=get_context("forkserver"),
                initializer=init_worker_process,
                max_tasks_per_child=200,  # bounds slow leaks in long batches
            )
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> "LocalExecutor":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def map_groups(
        self, groups: Iterable[tuple[K, list[Any]]], fn: Callable[[Any], Any], window: int = 0
    ) -> Iterator[tuple[K, list[Any] | BaseException]]:
        """For each ``(key, jobs)``: ``(key, [fn(job) ...])``, or ``(key, exception)`` if a job raised.

        Groups without jobs pass straight through (in order). At most ``window`` groups
        (default: 4 per worker) are in flight, so memory stays bounded on any batch size.
        """
        window = window or 4 * self.workers
        in_flight: deque[tuple[K, list[Any], list[Future]]] = deque()
        source = iter(groups)
        exhausted = False
        while True:
            while not exhausted and len(in_flight) < window:
                try:
                    key, jobs = next(source)
                except StopIteration:
                    exhausted = True
                    break
                in_flight.append((key, jobs, [self._submit(fn, job) for job in jobs]))
            if not in_flight:
                return
            key, jobs, futures = in_flight.popleft()
            try:
                yield key, [f.result() for f in futures]
            except BrokenProcessPool:
                # A worker died (memory ceiling or a crash). Blame this group, start a new
                # pool and resubmit the groups that were in flight with it.
                self._pool = None
                yield key, WorkerCrashed("a worker process died reading this document (too large for memory?)")
                in_flight = deque((k, j, [self._submit(fn, job) for job in j]) for k, j, _ in in_flight)
            except Exception as err:  # noqa: BLE001 - reported per document, the batch goes on
                yield key, err

    def _submit(self, fn: Callable[[Any], Any], job: Any) -> Future:
        return self._get_pool().submit(fn, job)
