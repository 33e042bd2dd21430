"""What the clerk's search needs beyond ``Index.search``: sorting, facets as links that narrow
the query, and, on the document view, where the query's words are on the page images.

Backends that cannot sort or count facets still work: the page shows relevance order and no
facet column (``supports_sort`` / ``supports_facets``).
"""

from __future__ import annotations

import inspect
import re
import unicodedata
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from ecm.document import Document
from ecm.errors import QuerySyntaxError
from search.query import And, Not, Or, Phrase, Word, parse_query
from web.page_images import OverlayBox, overlay_box

__all__ = [
    "SORTS",
    "REVIEW_LABELS",
    "supports_sort",
    "supports_facets",
    "run_search",
    "facet_groups",
    "FacetGroup",
    "FacetItem",
    "query_words",
    "hit_boxes",
    "near",
]

SORTS = {"relevance": "Relevance", "date_desc": "Newest", "date_asc": "Oldest",
         "amount_desc": "Amount, highest", "amount_asc": "Amount, lowest"}
FACET_SIZE = 8
_FACET_TITLES = {"doc_type": "Type", "vendor": "Vendor / party", "year": "Year", "tags": "Tags",
                 "review": "Review"}
# How a review state reads in the facet column (the query keeps the state's own name).
REVIEW_LABELS = {"needs-review": "needs review", "accepted": "accepted", "auto": "straight through"}


def supports_sort(index: Any) -> bool:
    try:
        return "sort" in inspect.signature(index.search).parameters
    except (TypeError, ValueError):
        return False


def supports_facets(index: Any) -> bool:
    return callable(getattr(index, "facets", None))


def run_search(index: Any, query: str, limit: int, offset: int, sort: str = "relevance") -> Any:
    if sort != "relevance" and supports_sort(index):
        return index.search(query, limit=limit, offset=offset, sort=sort)
    return index.search(query, limit=limit, offset=offset)


# ----------------------------------------------------------------------------- facets


@dataclass(frozen=True)
class FacetItem:
    label: str
    count: int
    href: str  # the search with this value added to (or, when active, removed from) the query
    active: bool


@dataclass(frozen=True)
class FacetGroup:
    name: str
    title: str
    items: list[FacetItem]


_PLAIN_TAG = re.compile(r"[a-z0-9][a-z0-9._-]*")  # what ecm.tags allows: needs no quotes in a query


def _term(name: str, value: str) -> str:
    if name == "doc_type":
        return f"type:{value}"
    if name == "year":
        return f"date:{value}"
    if name == "review":
        return f"review:{value}"
    clean = " ".join(value.replace('"', " ").split())
    if name == "tags" and _PLAIN_TAG.fullmatch(clean):
        return f"tag:{clean}"  # as the document page links it (tag:audit-2026), so it shows as active
    prefix = "vendor" if name == "vendor" else "tag"
    return f'{prefix}:"{clean}"' if " " in clean or not clean.isalnum() else f"{prefix}:{clean}"


def _search_url(query: str, sort: str) -> str:
    params = {"q": query.strip()}
    if sort != "relevance":
        params["sort"] = sort
    return "/?" + urlencode(params)


def facet_groups(counts: dict[str, list[tuple[str, int]]], query: str, sort: str) -> list[FacetGroup]:
    """Facet counts as links: a value adds ``type:invoice`` (``vendor:"Acme Corp"``,
    ``date:2024``, ``tag:x``, ``review:needs-review``) to the query; a value already in the
    query removes it."""
    groups = []
    for name, title in _FACET_TITLES.items():
        items = []
        for value, count in counts.get(name, [])[:FACET_SIZE]:
            term = _term(name, str(value))
            active = re.search(rf"(^|\s){re.escape(term)}(\s|$)", query, flags=re.IGNORECASE) is not None
            if active:
                narrowed = re.sub(rf"(^|\s){re.escape(term)}(?=\s|$)", " ", query, flags=re.IGNORECASE)
            else:
                narrowed = f"{query} {term}"
            label = REVIEW_LABELS.get(str(value), str(value)) if name == "review" else str(value)
            items.append(FacetItem(label=label, count=int(count), href=_search_url(" ".join(narrowed.split()), sort),
                                   active=active))
        if items:
            groups.append(FacetGroup(name=name, title=title, items=items))
    return groups


# ----------------------------------------------------------------------------- hit words on the page


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


_WORD = re.compile(r"\w+", re.UNICODE)


def query_words(query: str) -> set[str]:
    """The words a query looks for (negated parts left out), folded to lower case without accents."""
    try:
        node = parse_query(query) if query.strip() else None
    except QuerySyntaxError:
        return set()
    words: set[str] = set()

    def walk(n: Any) -> None:
        if isinstance(n, (And, Or)):
            for child in n.children:
                walk(child)
        elif isinstance(n, (Word, Phrase)) and getattr(n, "field", None) != "source":
            words.update(_WORD.findall(_fold(n.text)))
        # Not: what is excluded is not on the page; filters (type, dates, amounts): not words.

    if not isinstance(node, Not):
        walk(node)
    return {w for w in words if len(w) >= 2 or w.isdigit()}


def near(word: str, target: str) -> bool:
    """Equal, or (for words of five letters or more) one edit apart: OCR's typical slip."""
    if word == target:
        return True
    if len(target) < 5 or abs(len(word) - len(target)) > 1:
        return False
    if len(word) == len(target):
        return sum(a != b for a, b in zip(word, target)) == 1
    short, long_ = (word, target) if len(word) < len(target) else (target, word)
    for i in range(len(long_)):
        if long_[:i] + long_[i + 1:] == short:
            return True
    return False


def hit_boxes(doc: Document, query: str, limit_per_page: int = 400) -> dict[int, list[OverlayBox]]:
    """Page number -> boxes (percent of the page) of the words on it that the query looks for."""
    wanted = query_words(query)
    if not wanted:
        return {}
    out: dict[int, list[OverlayBox]] = {}
    for page in doc.pages:
        boxes = []
        for w in page.words:
            parts = _WORD.findall(_fold(w.text))
            if any(near(part, target) for part in parts for target in wanted):
                box = overlay_box(w.bbox, page)
                if box is not None:
                    boxes.append(box)
                    if len(boxes) >= limit_per_page:
                        break
        if boxes:
            out[page.number] = boxes
    return out
