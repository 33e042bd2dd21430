"""Search benchmark: indexing throughput and query latency of a search backend.

Generates N synthetic documents (seeded: invoices, receipts and contracts with vendors, dates,
amounts, boilerplate and a little OCR noise), indexes them in batches and times a fixed mix of
queries end to end (``Index.search``: parse, search, count, snippets of the top 10).
Prints one JSON object.

    .venv/bin/python bench/search_bench.py --docs 100000                          # embedded (tantivy)
    .venv/bin/python bench/search_bench.py --backend elasticsearch --docs 100000  # noida-db, started here
    ECM_ES_URL=https://... .venv/bin/python bench/search_bench.py --backend elasticsearch --es-url env

The same corpus and query mix for every backend (same seed). Elasticsearch is indexed through
``Index.add`` in batches, like the embedded index (each call ends with a refresh), and, with
``--es-rebuild``, through ``ElasticsearchIndex.rebuild`` (refresh off during the load, as
``ecm reindex`` would).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ecm.document import DocType, Document, FieldValue, Page, Word  # noqa: E402
from search import EmbeddedIndex  # noqa: E402

__all__ = ["generate_documents", "main"]

# ----------------------------------------------------------------------------- vocabulary

_COMMON = """the of and to in for on with by at from this that is are be as or any all shall will
may not such other under which each its their per upon within without including provided
payment invoice total amount due date tax subtotal balance customer account order number item
quantity price unit description services goods delivery shipping terms net days please remit
thank you business bank transfer reference period month year agreement party parties company
corporation limited notice written consent confidential information obligations rights license
term termination law governing state court dispute warranty liability damages indemnify
breach effective between hereby herein thereof whereas agree agrees product products support
maintenance fee fees charges discount credit debit receipt cash change card visa purchase store
branch address phone email website office street road avenue suite floor building park""".split()

_SYLLABLES = "ka lo mi nu re sa ti vo ben dar el fin gor hal ix jun kel mor nak pol quin ros tam ul ver wex yor zan".split()
_SUFFIXES = ["Ltd", "Inc", "LLC", "Corp", "GmbH", "Sdn Bhd", "Trading", "Supplies", "Services", "Holdings"]
_CITIES = ["Springfield", "Riverton", "Lakeside", "Fairview", "Kuala Lumpur", "Johor Bahru", "Penang",
           "Georgetown", "Madison", "Franklin", "Clinton", "Arlington", "Salem", "Bristol", "Dover"]
_STATES = ["Delaware", "New York", "California", "Texas", "Nevada", "Ontario", "England and Wales"]
_ITEMS = ["widgets", "bolts", "paper", "toner", "coffee", "latte", "sandwich", "cables", "monitor",
          "keyboard", "licence seats", "consulting hours", "cleaning", "transport", "rice", "noodles",
          "chicken", "pencils", "envelopes", "batteries", "printer", "stapler", "chairs", "desks"]
_CLAUSES = [
    "this agreement shall be governed by the laws of the state of {state}",
    "each party shall keep the confidential information of the other party secret",
    "the term of this agreement shall be {years} years from the effective date",
    "either party may terminate this agreement upon thirty days written notice",
    "the licensee shall pay the license fees within {days} days of the invoice date",
    "in no event shall either party be liable for indirect or consequential damages",
    "all notices shall be in writing and delivered to the address set forth above",
    "this agreement constitutes the entire agreement between the parties",
    "the receiving party shall not disclose any confidential information to third parties",
    "any dispute arising under this agreement shall be resolved in the courts of {state}",
]


def _pseudo_word(rng: random.Random) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4)))


class _Vocabulary:
    """Zipf-like word mix: a few very common words, a long tail of rare ones."""

    def __init__(self, rng: random.Random, size: int = 30_000) -> None:
        tail = {_pseudo_word(rng) for _ in range(size)}
        self.words = _COMMON + sorted(tail)
        rng.shuffle(self.words[len(_COMMON):])
        weights = [1.0 / (rank + 1) ** 1.05 for rank in range(len(self.words))]
        self._cumulative = list(_accumulate(weights))

    def sample(self, rng: random.Random, k: int) -> list[str]:
        return rng.choices(self.words, cum_weights=self._cumulative, k=k)


def _accumulate(values: list[float]) -> Iterator[float]:
    total = 0.0
    for v in values:
        total += v
        yield total


def _ocr_noise(word: str, rng: random.Random) -> str:
    """A typical OCR confusion in about 2% of words (i->l, o->0, m->rn, e->c)."""
    if len(word) < 4 or rng.random() > 0.02:
        return word
    for good, bad in (("i", "l"), ("o", "0"), ("m", "rn"), ("e", "c")):
        if good in word:
            return word.replace(good, bad, 1)
    return word


# ----------------------------------------------------------------------------- documents


def _page(number: int, lines: list[str], rng: random.Random) -> Page:
    # model_construct: the benchmark measures indexing, not pydantic validation of 15M words.
    words = [
        Word.model_construct(text=_ocr_noise(token, rng), bbox=(0.0, 0.0, 1.0, 1.0), conf=0.9, line=i)
        for i, line in enumerate(lines)
        for token in line.split()
    ]
    return Page.model_construct(
        number=number, width=612.0, height=792.0, unit="px", dpi=300, source="ocr", rotation=0, words=words
    )


class _Generator:
    def __init__(self, seed: int) -> None:
        rng = random.Random(seed)
        self.seed = seed
        self.vocab = _Vocabulary(rng)
        self.vendors = [
            f"{_pseudo_word(rng).title()} {_pseudo_word(rng).title()} {rng.choice(_SUFFIXES)}" for _ in range(2000)
        ]

    def document(self, n: int) -> Document:
        rng = random.Random(self.seed * 1_000_003 + n)
        kind = rng.choices(("invoice", "receipt", "contract"), weights=(45, 35, 20))[0]
        day = date(2015, 1, 1) + timedelta(days=rng.randrange(3650))
        vendor = rng.choice(self.vendors)
        city = rng.choice(_CITIES)
        fields: dict[str, FieldValue] = {}

        def put(name: str, value: str | list[str]) -> None:
            fields[name] = FieldValue.model_construct(value=value, confidence=0.9, page=1, bbox=None, source="bench")

        if kind == "contract":
            other = rng.choice(self.vendors)
            state = rng.choice(_STATES)
            title = rng.choice(["Mutual Non-Disclosure Agreement", "Software License Agreement",
                                "Master Services Agreement", "Supply Agreement", "Consulting Agreement"])
            pages = []
            for number in range(1, rng.randint(2, 4) + 1):
                lines = [title.upper(), f"between {vendor} and {other}"] if number == 1 else []
                for _ in range(6):
                    clause = rng.choice(_CLAUSES).format(state=state, years=rng.randint(1, 5), days=rng.choice((15, 30, 45)))
                    lines.append(clause + " " + " ".join(self.vocab.sample(rng, 12)))
                pages.append(_page(number, lines, rng))
            put("title", title)
            put("parties", [vendor, other])
            put("governing_law", state)
            put("effective_date", day.isoformat())
        else:
            items = rng.sample(_ITEMS, rng.randint(2, 6))
            amounts = [round(rng.uniform(1, 400 if kind == "invoice" else 40), 2) for _ in items]
            total = round(sum(amounts), 2)
            tax = round(total * 0.06, 2)
            number = f"INV-{day.year}-{rng.randrange(100000):05d}" if kind == "invoice" else f"{rng.randrange(10**6):06d}"
            lines = [vendor, f"{rng.randint(1, 999)} {rng.choice(_SYLLABLES).title()} Road {city}",
                     f"{'Invoice' if kind == 'invoice' else 'Receipt'} {number}", f"Date {day:%d/%m/%Y}"]
            lines += [f"{item} {amount:.2f}" for item, amount in zip(items, amounts)]
            lines += [" ".join(self.vocab.sample(rng, 14)) for _ in range(rng.randint(6, 9))]
            lines += [f"Tax {tax:.2f}", f"Total {total + tax:.2f}", "Thank you for your business"]
            pages = [_page(1, lines, rng)]
            put("vendor_name", vendor)
            put("vendor_address", f"{city}")
            put("invoice_number", number)
            put("invoice_date", day.isoformat())
            put("total_amount", f"{total + tax:.2f}")
            put("tax_amount", f"{tax:.2f}")
            if kind == "invoice":
                put("due_date", (day + timedelta(days=30)).isoformat())
        return Document.model_construct(
            id=f"bench-{n:08d}",
            source=f"/archive/{day.year}/{kind}-{n:08d}.pdf",
            sha256=f"{n:064x}",
            status="ok",
            pages=pages,
            doc_type=DocType.model_construct(label=kind, confidence=0.9, source="bench"),
            fields=fields,
            created_at=_CREATED,
        )


_CREATED = datetime(2024, 1, 1, tzinfo=timezone.utc)  # fixed, so runs are identical


def generate_documents(count: int, seed: int = 42, start: int = 0) -> Iterator[Document]:
    """``count`` synthetic documents, the same for the same seed."""
    generator = _Generator(seed)
    for n in range(start, start + count):
        yield generator.document(n)


# ----------------------------------------------------------------------------- queries


def _query_mix(seed: int, per_kind: int, docs: int) -> dict[str, list[str]]:
    """The fixed query mix: the same queries for the same seed and corpus size."""
    rng = random.Random(seed + 7)
    generator = _Generator(seed)
    mid = generator.vocab.words[40:3000]  # neither stop-word common nor unique
    phrases = [c.format(state="Delaware", years=2, days=30) for c in _CLAUSES]

    def typo(word: str) -> str:
        i = rng.randrange(len(word) - 1)
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]  # swap two letters

    def sample_vendor_word() -> str:
        return rng.choice([w for w in rng.choice(generator.vendors).split() if len(w) >= 6] or ["kalomi"])

    mix = {
        "and_2_terms": [f"{rng.choice(mid)} {rng.choice(mid)}" for _ in range(per_kind)],
        "phrase": [
            '"' + " ".join(rng.choice(phrases).split()[(s := rng.randrange(4)) : s + rng.randint(3, 5)]) + '"'
            for _ in range(per_kind)
        ],
        "field_filter_and_term": [
            rng.choice(
                [
                    f"type:invoice {rng.choice(mid)}",
                    f"vendor:{sample_vendor_word()} total",
                    f"type:contract law:delaware {rng.choice(mid)}",
                ]
            )
            for _ in range(per_kind)
        ],
        "range": [
            rng.choice(
                [
                    f"date:{rng.randint(2015, 2024)}-{rng.randint(1, 12):02d} amount:>{rng.randint(50, 500)}",
                    f"type:receipt amount:{(a := rng.randint(5, 100))}..{a + 20} {rng.choice(_ITEMS).split()[0]}",
                    f"date:{rng.randint(2015, 2023)}..{rng.randint(2024, 2025)} {rng.choice(mid)}",
                ]
            )
            for _ in range(per_kind)
        ],
        "fuzzy": [typo(sample_vendor_word()) for _ in range(per_kind)],
        "id_lookup": [f"id:bench-{rng.randrange(docs):08d}" for _ in range(per_kind)],
        # The worst case of positional indexes: two very common words as a phrase.
        "stopword_phrase": [
            rng.choice(['"of the"', '"shall be"', '"to the"', '"by the"', '"the other"', '"in writing"'])
            for _ in range(per_kind)
        ],
    }
    return mix


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _time_queries(search: Callable[[str], object], queries: list[str]) -> dict:
    for query in queries[:5]:  # warm caches (mmap pages, fast fields)
        search(query)
    times, totals = [], []
    for query in queries:
        started = time.perf_counter()
        result = search(query)
        times.append((time.perf_counter() - started) * 1000)
        totals.append(result.total)
    return {
        "queries": len(queries),
        "p50_ms": round(_percentile(times, 0.50), 2),
        "p95_ms": round(_percentile(times, 0.95), 2),
        "max_ms": round(max(times), 2),
        "mean_total_hits": round(statistics.fmean(totals), 1),
        "example": queries[0],
    }


class _TimedIterator:
    """Yields what ``inner`` yields, adding up the time spent producing it."""

    def __init__(self, inner: Iterator[Document]) -> None:
        self._inner = inner
        self.seconds = 0.0

    def __iter__(self) -> "_TimedIterator":
        return self

    def __next__(self) -> Document:
        started = time.perf_counter()
        try:
            return next(self._inner)
        finally:
            self.seconds += time.perf_counter() - started


def _folder_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.iterdir() if f.is_file())


def open_elasticsearch(stack: ExitStack, url: str | None, alias: str) -> Any:
    """An ``ElasticsearchIndex``: on ``url`` (``env``: from ``ECM_ES_*``), else on a noida-db server
    started here the way the tests start it (``tests/servers.py``) and stopped on exit."""
    from elasticsearch import Elasticsearch

    from search.elasticsearch import ElasticsearchIndex

    if url == "env":
        return ElasticsearchIndex.from_env(alias)
    if url:
        return ElasticsearchIndex(Elasticsearch(url, request_timeout=120), alias)
    from tests.servers import running_elasticsearch

    base = Path(tempfile.mkdtemp(prefix="ecm-bench-es-"))
    stack.callback(shutil.rmtree, base, ignore_errors=True)
    server = stack.enter_context(running_elasticsearch(base))
    return ElasticsearchIndex(Elasticsearch(server.url, request_timeout=120), alias)


def _es_store_mb(index: Any) -> float:
    stats = index.client.indices.stats(index=index.alias, metric="store").body
    return round(stats["_all"]["primaries"]["store"]["size_in_bytes"] / 1e6, 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("embedded", "elasticsearch"), default="embedded")
    parser.add_argument("--docs", type=int, default=10_000, help="number of synthetic documents")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--batch", type=int, default=5_000, help="documents per Index.add call")
    parser.add_argument("--queries", type=int, default=200, help="queries per kind (0: time indexing only)")
    parser.add_argument("--index-dir", type=Path, help="embedded: keep the index here (default: a temporary folder)")
    parser.add_argument("--es-url", help="elasticsearch: this server (or 'env' for ECM_ES_*); default: start noida-db")
    parser.add_argument("--es-alias", default="ecm-bench")
    parser.add_argument("--es-rebuild", action="store_true",
                        help="elasticsearch: also time ElasticsearchIndex.rebuild of the same corpus")
    args = parser.parse_args(argv)

    with ExitStack() as stack:
        folder: Path | None = None
        if args.backend == "embedded":
            folder = args.index_dir or Path(tempfile.mkdtemp(prefix="ecm-search-bench-"))
            if args.index_dir is None:
                stack.callback(shutil.rmtree, folder, ignore_errors=True)
            index: Any = EmbeddedIndex(folder)
        else:
            index = open_elasticsearch(stack, args.es_url, args.es_alias)
        index.clear()
        generate_s = index_s = 0.0
        words = 0
        for start in range(0, args.docs, args.batch):
            started = time.perf_counter()
            batch = list(generate_documents(min(args.batch, args.docs - start), args.seed, start))
            generate_s += time.perf_counter() - started
            words += sum(len(p.words) for d in batch for p in d.pages)
            started = time.perf_counter()
            index.add(batch)
            index_s += time.perf_counter() - started
        report: dict[str, Any] = {
            "backend": args.backend,
            "docs": args.docs,
            "words_per_doc": round(words / max(1, args.docs), 1),
            "batch": args.batch,
            "cpus": len(os.sched_getaffinity(0)),
            "load_avg_1m_before_queries": round(os.getloadavg()[0], 2),
            "generate_s": round(generate_s, 1),
            "index_s": round(index_s, 1),
            "index_docs_per_s": round(args.docs / index_s) if index_s else None,
        }
        if folder is not None:
            report["index_mb"] = round(_folder_bytes(folder) / 1e6, 1)
        else:
            report["server"] = repr(index)
            report["index_mb"] = _es_store_mb(index)
        if args.queries:  # --queries 0: indexing throughput only
            mix = _query_mix(args.seed, args.queries, args.docs)
            report["query_latency"] = {
                kind: _time_queries(lambda q: index.search(q, limit=10), queries) for kind, queries in mix.items()
            }
        if args.es_rebuild and folder is None:
            # rebuild pulls documents from an iterable: the time spent generating them is measured
            # inside the iterator and taken off.
            producing = _TimedIterator(generate_documents(args.docs, args.seed))
            started = time.perf_counter()
            count = index.rebuild(producing)
            rebuild_s = time.perf_counter() - started - producing.seconds
            report["rebuild_s"] = round(rebuild_s, 1)
            report["rebuild_docs_per_s"] = round(count / rebuild_s) if rebuild_s > 0 else None
        print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
