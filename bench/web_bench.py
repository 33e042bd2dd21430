"""Web benchmark: server time of the search results page and the document view on a large archive.

Builds (or reuses, with --home) a store + embedded index of N synthetic documents (the search
benchmark's generator: invoices, receipts, contracts with vendors, dates, amounts, OCR noise),
then times in-process requests through FastAPI's TestClient, signed in as a clerk:

* ``GET /?q=...``            the search page: parse, search, snippets, facets, template
* ``GET /?q=...&sort=...``   the same, sorted by date or amount
* ``GET /doc/<id>?q=...``    the document view: record + pages from the store, hit words
                             marked, audit event written (page images are separate requests
                             and are not included)

    .venv/bin/python bench/web_bench.py --docs 100000 --home /tmp/ecm-web-bench
    .venv/bin/python bench/web_bench.py --home /tmp/ecm-web-bench --reuse     # time again only

Prints one JSON object (p50 / p95 / max in ms per kind, build times). The store is written
without fsync (a benchmark of the web layer, not of the disk); so are the audit events the
document view writes, which on a real store cost one fsync each (about 1-5 ms on SSD).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from fastapi.testclient import TestClient  # noqa: E402

from ecm.config import Config  # noqa: E402
from ecm.document import Document  # noqa: E402
from search import EmbeddedIndex  # noqa: E402
from search_bench import generate_documents  # noqa: E402
from store import Archive, FsBlobStore  # noqa: E402
from web.app import create_app  # noqa: E402
from web.auth import SESSION_COOKIE, SessionSigner  # noqa: E402
from ecm.db import database_path  # noqa: E402
from web.users import UserStore  # noqa: E402

__all__ = ["main"]


class UnsyncedFsBlobStore(FsBlobStore):
    """FsBlobStore without fsync: building 100k documents writes 300k files."""

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".tmp-{path.name}")
        tmp.write_bytes(data)
        os.replace(tmp, path)


def _bench_doc(doc: Document, n: int) -> Document:
    # Real ids (16 hex digits of a sha256) so the web's id checks accept them; PDFs, so the
    # document view does not read the original to decide whether there is a PDF download.
    sha = hashlib.sha256(f"web-bench-{n}".encode()).hexdigest()
    return doc.model_copy(update={"id": sha[:16], "sha256": sha, "media_type": "application/pdf", "size": 1000})


def build(home: Path, count: int, batch: int = 5000) -> dict:
    archive = Archive(UnsyncedFsBlobStore(home / "store"))
    index = EmbeddedIndex(home / "index")
    started = time.perf_counter()
    store_s = index_s = 0.0
    pending: list[Document] = []
    for n, doc in enumerate(generate_documents(count)):
        t = time.perf_counter()
        pending.append(archive.save(_bench_doc(doc, n), actor="bench", action="ingest"))
        store_s += time.perf_counter() - t
        if len(pending) >= batch:
            t = time.perf_counter()
            index.add(pending)
            index_s += time.perf_counter() - t
            pending = []
            print(f"  {n + 1} documents ({time.perf_counter() - started:.0f} s)", file=sys.stderr, flush=True)
    if pending:
        t = time.perf_counter()
        index.add(pending)
        index_s += time.perf_counter() - t
    return {"documents": count, "store_s": round(store_s, 1), "index_s": round(index_s, 1),
            "build_s": round(time.perf_counter() - started, 1)}


def _percentiles(values: list[float]) -> dict:
    ordered = sorted(values)

    def pct(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, max(0, int(round(q / 100 * len(ordered))) - 1))], 1)

    return {"n": len(ordered), "p50_ms": pct(50), "p95_ms": pct(95), "max_ms": round(ordered[-1], 1),
            "mean_ms": round(statistics.fmean(ordered), 1)}


def _time(client: TestClient, urls: list[str]) -> dict:
    times = []
    for url in urls:
        t = time.perf_counter()
        r = client.get(url)
        times.append((time.perf_counter() - t) * 1000)
        if r.status_code != 200:
            raise SystemExit(f"{url}: HTTP {r.status_code}: {r.text[:300]}")
    return _percentiles(times)


def run(home: Path, requests: int, seed: int = 7) -> dict:
    archive = Archive(UnsyncedFsBlobStore(home / "store"))
    index = EmbeddedIndex(home / "index")
    users = UserStore(database_path(home))
    clerk = users.by_name("bench-clerk") or users.add("bench-clerk", "clerk", "bench-password-1")
    app = create_app(Config(home=home), archive, index, users, ingest=lambda *a, **k: iter(()),
                     executor_factory=lambda config: None)
    client = TestClient(app)
    signer = SessionSigner(users.session_key())
    client.cookies.set(SESSION_COOKIE, signer.new_cookie(clerk.id, clerk.epoch))
    rng = random.Random(seed)
    words = ["payment", "invoice", "agreement", "confidential", "delivery", "toner", "coffee", "license",
             "termination", "warranty", "notice", "receipt", "cash", "discount", "monitor", "consulting"]
    vendors = [h.fields.get("vendor_name") for h in index.search("type:invoice", limit=200).hits]
    vendors = [v for v in vendors if isinstance(v, str)]
    queries = []
    for i in range(requests):
        kind = i % 5
        if kind == 0:
            queries.append(rng.choice(words))
        elif kind == 1:
            queries.append(f"{rng.choice(words)} {rng.choice(words)}")
        elif kind == 2:
            queries.append(f'vendor:"{rng.choice(vendors)}"')
        elif kind == 3:
            queries.append(f"{rng.choice(words)} type:invoice date:{rng.randint(2015, 2024)}")
        else:
            queries.append(f"{rng.choice(words)} amount:>{rng.randint(10, 500)}")
    # Warm up (first requests compile templates, open segments).
    client.get("/?q=payment")
    search = _time(client, [f"/?q={q}" for q in queries])
    sorts = ["date_desc", "date_asc", "amount_desc", "amount_asc"]
    sorted_ = _time(client, [f"/?q={q}&sort={sorts[i % 4]}" for i, q in enumerate(queries[: requests // 2])])
    ids = [h.id for q in words for h in index.search(q, limit=20).hits]
    rng.shuffle(ids)
    docs = _time(client, [f"/doc/{doc_id}?q={rng.choice(words)}" for doc_id in ids[:requests]])
    api = _time(client, [f"/api/search?q={q}&facets=1" for q in queries[: requests // 2]])
    facets_ms = []
    for q in queries[:50]:
        t = time.perf_counter()
        index.facets(q)
        facets_ms.append((time.perf_counter() - t) * 1000)
    plain_ms = []
    for q in queries[:50]:
        t = time.perf_counter()
        index.search(q, limit=20)
        plain_ms.append((time.perf_counter() - t) * 1000)
    app.state.ecm.worker.stop()
    return {"search_page": search, "search_page_sorted": sorted_, "document_view": docs,
            "api_search_with_facets": api, "index_facets_only": _percentiles(facets_ms),
            "index_search_only": _percentiles(plain_ms), "documents_in_index": index._usable().searcher().num_docs}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--home", type=Path, help="where to build (kept); default: a temporary folder")
    parser.add_argument("--reuse", action="store_true", help="time an existing --home without building")
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args(argv)
    home = args.home or Path(tempfile.mkdtemp(prefix="ecm-web-bench-"))
    result: dict = {"home": str(home)}
    if not args.reuse:
        result["build"] = build(home, args.docs)
    result.update(run(home, args.requests))
    result["target_ms"] = 300
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
