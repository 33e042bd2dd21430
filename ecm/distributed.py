"""Scale-out work distribution: page OCR on ``ecm worker`` processes, through Redis (Celery).

``[queue] kind = "celery"`` makes the pipeline send each page to the queue instead of the
local process pool; ``ecm worker`` (on this or any other machine with the same install) takes
pages off it. Jobs travel detached (the page's own bytes: a one-page PDF cut from the
original, or the image), so workers need no shared disk. Messages are JSON, never pickle:
a Redis that others can write to must not be a way to run code on the workers.
"""

from __future__ import annotations

import base64
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict
from typing import Any, TypeVar

import pikepdf
from celery import Celery
from celery.exceptions import CeleryError, TimeoutError as CeleryTimeout
from celery.signals import worker_process_init
from kombu.exceptions import KombuError
import redis
from redis.exceptions import RedisError

from ecm.document import Page
from ecm.errors import BadInput, ConfigError
from ecm.executor import available_cores, init_worker_process
from ingest.ocr import PageJob, PageResult, detach, ocr_page

__all__ = ["CeleryExecutor", "make_celery", "run_worker", "redis_url"]

K = TypeVar("K")
OCR_TASK = "ecm.ocr_page"


def redis_url(env: dict[str, str] | None = None) -> str:
    env = os.environ if env is None else env
    return env.get("ECM_REDIS_URL", "redis://127.0.0.1:6379/0")


def _job_to_json(job: PageJob) -> dict:
    data = asdict(detach(job))
    data["data"] = base64.b64encode(data["data"]).decode("ascii")
    return data


def _job_from_json(data: dict) -> PageJob:
    return PageJob(**{**data, "data": base64.b64decode(data["data"])})


def _ocr_task(job: dict) -> dict:
    """The worker side: OCR one detached page; bad input comes back as a reason, not a crash."""
    try:
        result = ocr_page(_job_from_json(job))
    except BadInput as err:
        return {"error": str(err)}
    return {"page": result.page.model_dump(mode="json"), "pdf": base64.b64encode(result.pdf).decode("ascii")}


def _result_from_json(data: dict) -> PageResult:
    if "error" in data:
        raise BadInput(data["error"])
    return PageResult(page=Page.model_validate(data["page"]), pdf=base64.b64decode(data["pdf"]))


def make_celery(broker: str) -> Celery:
    app = Celery("ecm", broker=broker, backend=broker)
    app.conf.update(
        task_serializer="json", result_serializer="json", accept_content=["json"],
        task_acks_late=True,  # a worker that dies mid-page leaves the page for another worker
        worker_prefetch_multiplier=1,  # OCR pages are long: no hoarding
        result_expires=3600,
        broker_connection_retry_on_startup=True,
        worker_max_tasks_per_child=200,
        worker_hijack_root_logger=False,
    )
    app.task(name=OCR_TASK)(_ocr_task)
    return app


@worker_process_init.connect
def _limit_worker(**_: Any) -> None:
    init_worker_process()


def _check_reachable(broker: str) -> None:
    """Fail at once with what to do, rather than after Celery's minute of reconnecting."""
    try:
        redis.Redis.from_url(broker, socket_connect_timeout=3, socket_timeout=3).ping()
    except (RedisError, OSError, ValueError) as err:
        raise ConfigError(f"cannot reach the work queue at {broker} ({err}); start Redis "
                          f"or set ECM_REDIS_URL, and run `ecm worker`") from err


class CeleryExecutor:
    """The Executor on a Celery queue: same order, same per-group errors, bounded window."""

    def __init__(self, broker: str, page_timeout: int = 600):
        _check_reachable(broker)
        self.app = make_celery(broker)
        self.broker = broker
        self.page_timeout = page_timeout
        self.workers = available_cores()

    def close(self) -> None:
        self.app.close()

    def __enter__(self) -> "CeleryExecutor":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def map_groups(
        self, groups: Iterable[tuple[K, list[Any]]], fn: Callable[[Any], Any], window: int = 0
    ) -> Iterator[tuple[K, list[Any] | BaseException]]:
        if fn is not ocr_page:
            raise ValueError("the Celery executor runs page OCR (ingest.ocr_page) only")
        window = window or 16
        in_flight: deque = deque()
        source = iter(groups)
        while True:
            for key, jobs in source:
                in_flight.append((key, self._submit(jobs)))
                if len(in_flight) >= window:
                    break
            if not in_flight:
                return
            key, pending = in_flight.popleft()
            if isinstance(pending, BaseException):
                yield key, pending
                continue
            try:
                yield key, [_result_from_json(r.get(timeout=self.page_timeout)) for r in pending]
            except BadInput as err:
                yield key, err
            except CeleryTimeout:
                yield key, BadInput(f"no worker finished a page within {self.page_timeout} s; is `ecm worker` running?")
            except (CeleryError, KombuError, RedisError, OSError) as err:
                yield key, ConfigError(f"the work queue at {self.broker} failed: {err}")

    def _submit(self, jobs: list[PageJob]) -> list | BaseException:
        try:
            return [self.app.send_task(OCR_TASK, args=[_job_to_json(job)]) for job in jobs]
        except (KombuError, RedisError, OSError) as err:
            return ConfigError(f"cannot reach the work queue at {self.broker} ({err}); start Redis or set ECM_REDIS_URL")
        except pikepdf.PdfError as err:
            return BadInput(f"cannot cut a page out of the PDF for a worker: {err}")


def run_worker(broker: str, concurrency: int = 0, loglevel: str = "INFO") -> None:
    """``ecm worker``: take pages off the queue until stopped (one process per core)."""
    os.environ["OMP_THREAD_LIMIT"] = "1"
    app = make_celery(broker)
    app.worker_main(["worker", f"--loglevel={loglevel}", f"--concurrency={concurrency or available_cores()}",
                     "--pool=prefork", "--without-gossip", "--without-mingle", "-n", f"ecm@{os.uname().nodename}-{os.getpid()}"])
