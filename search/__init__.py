"""Search: the derived full-text index and the one query language.

``Index`` is the interface (4 methods); ``EmbeddedIndex`` is the default backend (tantivy in a
folder); ``search.elasticsearch.ElasticsearchIndex`` is the scale-out one (imported from its own
module, so the Elasticsearch client is loaded only when used; see ``search/ELASTICSEARCH.md``).
The query language is parsed into a backend-independent AST by ``parse_query``; the
syntax is described in ``search/QUERY.md``.
"""

from search.embedded import EmbeddedIndex
from search.entry import IndexEntry, entry_from_document
from search.index import Index
from search.query import parse_query
from search.results import Hit, SearchHits

__all__ = [
    "Index",
    "EmbeddedIndex",
    "SearchHits",
    "Hit",
    "parse_query",
    "entry_from_document",
    "IndexEntry",
]
