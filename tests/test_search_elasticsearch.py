"""Elasticsearch-only behaviour of ``search.ElasticsearchIndex`` (the shared behaviour is the contract
suite in test_search.py): aliases and zero-downtime rebuilds, facets, configuration from the
environment, error messages, and the parts of the query DSL and highlighting a test server cannot
judge for a real cluster (checked on the request bodies and on highlighter output as a real
cluster returns it)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from ecm.errors import ConfigError, QuerySyntaxError, SearchError
from search.elasticsearch import ElasticsearchIndex
from search.es_highlight import marked_ranges, snippet_for_hit
from search.es_mapping import F_BODY, F_PAGE_NUMBERS, index_mappings, index_settings
from search.es_query import FUZZY_SCORE, EsQueryCompiler
from search.query import parse_query
from test_search import CORPUS, ids, make_doc
from tests.servers import free_ports


@pytest.fixture
def client(es_server) -> Elasticsearch:
    return Elasticsearch(es_server, request_timeout=30)


@pytest.fixture
def alias(request) -> str:
    return "ecm-es-" + hashlib.sha1(request.node.nodeid.encode()).hexdigest()[:16]


@pytest.fixture
def index(client, alias) -> ElasticsearchIndex:
    return ElasticsearchIndex(client, alias)


def physical_indices(client: Elasticsearch, alias: str) -> list[str]:
    return sorted(client.indices.get(index=f"{alias}-*").body)


# ----------------------------------------------------------------------------- aliases


def test_the_alias_points_at_one_timestamped_physical_index(index, client, alias):
    index.add([make_doc("d1", "words")])
    (physical,) = physical_indices(client, alias)
    assert physical.startswith(f"{alias}-") and physical[len(alias) + 1 :].isdigit()
    assert list(client.indices.get_alias(name=alias).body) == [physical]
    mapping = client.indices.get_mapping(index=physical).body[physical]["mappings"]
    assert mapping["dynamic"] == "strict"
    assert mapping["properties"]["invoice_date"]["type"] == "date"
    assert mapping["properties"]["total_amount"]["type"] == "scaled_float"
    assert mapping["properties"]["vendor_name"]["fields"]["exact"]["type"] == "keyword"


def test_nothing_is_created_until_something_is_indexed(index, client, alias):
    assert index.search("anything").total == 0
    index.delete(["d1"])
    index.add([make_doc("q", "x", status="quarantined")])
    assert not client.indices.exists_alias(name=alias)
    assert index.facets("") == {"doc_type": [], "vendor": [], "year": [], "tags": [], "review": []}


def test_rebuild_swaps_the_alias_without_downtime(index, client, alias):
    index.add([make_doc("old1", "old words"), make_doc("old2", "old words")])
    (before,) = physical_indices(client, alias)
    seen_during_rebuild: list[int] = []

    def documents():
        for i in range(5):
            if i == 3:  # the new index is half-loaded: searches still see the old one, complete
                seen_during_rebuild.append(index.search("old").total)
            yield make_doc(f"new{i}", "new words")

    assert index.rebuild(documents()) == 5
    assert seen_during_rebuild == [2]
    assert index.search("old").total == 0 and index.search("new").total == 5
    (after,) = physical_indices(client, alias)  # the old physical index is gone
    assert after != before
    settings = client.indices.get_settings(index=after).body[after]["settings"]["index"]
    assert settings.get("refresh_interval") in (None, "1s")  # the bulk-load setting was undone
    index.add([make_doc("later", "new words")])  # adds after a rebuild are seen at once
    assert index.search("new").total == 6


def test_a_failed_rebuild_leaves_the_old_index_in_service(index, client, alias):
    index.add([make_doc("old1", "old words")])
    before = physical_indices(client, alias)

    def broken():
        yield make_doc("new1", "new words")
        raise OSError("store unreadable")

    with pytest.raises(OSError, match="store unreadable"):
        index.rebuild(broken())
    assert physical_indices(client, alias) == before
    assert ids(index.search("old")) == ["old1"]


def test_clear_replaces_the_physical_index(index, client, alias):
    index.add([make_doc("d1", "alpha")])
    (before,) = physical_indices(client, alias)
    index.clear()
    (after,) = physical_indices(client, alias)
    assert after != before and index.search("alpha").total == 0


def test_two_instances_creating_the_alias_at_once_end_with_one_index(client, alias, monkeypatch):
    first = ElasticsearchIndex(client, alias)
    second = ElasticsearchIndex(Elasticsearch(client.transport.node_pool.all()[0].base_url), alias)
    first.add([make_doc("a", "shared words")])
    # The second instance checked before the first created the alias (a race on an empty cluster).
    monkeypatch.setattr(second.client.indices, "exists_alias", lambda **_: False)
    monkeypatch.setattr(second.client.indices, "exists", lambda **_: False)
    second.add([make_doc("b", "shared words")])
    assert len(physical_indices(client, alias)) == 1
    assert sorted(ids(first.search("shared"))) == ["a", "b"]


def test_a_concrete_index_with_the_alias_name_is_reported(client, alias):
    client.indices.create(index=alias)
    with pytest.raises(SearchError, match="not an alias"):
        ElasticsearchIndex(client, alias).add([make_doc("d1", "x")])


@pytest.mark.parametrize("bad", ["ECM", "-ecm", "ecm index", "ecm/x", "", "ecm*"])
def test_invalid_alias_is_a_configuration_error(client, bad):
    with pytest.raises(ConfigError, match="alias"):
        ElasticsearchIndex(client, bad)


# ----------------------------------------------------------------------------- facets


def test_facets_count_types_vendors_years_and_tags(index):
    index.add(CORPUS)
    facets = index.facets("")
    assert dict(facets["doc_type"]) == {"invoice": 2, "contract": 2, "receipt": 1, "letter": 1, "other": 1}
    assert dict(facets["vendor"]) == {"ACME Corporation": 1, "Bolt Supplies Ltd": 1, "Sweet Forest Cafe": 1}
    assert facets["year"] == [("2019", 2), ("2018", 2), ("2017", 1)]  # latest first
    assert facets["tags"] == []
    assert facets["review"] == [("auto", 6), ("needs-review", 1)]  # "unclassified" has no type
    assert dict(index.facets("type:invoice")["year"]) == {"2018": 1, "2019": 1}
    assert dict(index.facets("agreement")["doc_type"]) == {"contract": 2}
    assert index.facets("&&&")["doc_type"] == []


def test_an_index_made_before_the_review_field_gains_it(index, client, alias):
    # The mapping is strict: without the new field, every add would be refused.
    old = index_mappings()
    del old["properties"]["review"]
    client.indices.create(index=f"{alias}-20250101000000000000", settings=index_settings(), mappings=old,
                          aliases={alias: {}})
    index.add([make_doc("d1", "words")])
    assert ids(index.search("review:needs-review")) == ["d1"]  # unclassified
    physical = f"{alias}-20250101000000000000"
    mapping = client.indices.get_mapping(index=physical).body[physical]["mappings"]["properties"]
    assert mapping["review"]["type"] == "keyword"


# ----------------------------------------------------------------------------- configuration


def test_from_env_defaults_and_credentials(tmp_path):
    default = ElasticsearchIndex.from_env(env={})
    assert default.alias == "ecm"
    assert [n.base_url for n in default.client.transport.node_pool.all()] == ["http://127.0.0.1:9200"]
    ca = tmp_path / "ca.pem"
    ca.write_text("not read until a connection is made")
    env = {"ECM_ES_URL": "https://es1.example:9200, https://es2.example:9200/", "ECM_ES_USERNAME": "ecm",
           "ECM_ES_PASSWORD": "s3cret", "ECM_ES_CA_CERTS": str(ca)}
    secured = ElasticsearchIndex.from_env("archive", env=env)
    assert secured.alias == "archive"
    assert sorted(n.base_url for n in secured.client.transport.node_pool.all()) == [
        "https://es1.example:9200", "https://es2.example:9200"]
    assert secured.client._headers["authorization"].startswith("Basic ")
    keyed = ElasticsearchIndex.from_env(env={"ECM_ES_API_KEY": "a2V5"})
    assert keyed.client._headers["authorization"] == "ApiKey a2V5"
    assert "s3cret" not in repr(secured)


@pytest.mark.parametrize(
    "env, message",
    [
        ({"ECM_ES_URL": "es.example:9200"}, "write a URL"),
        ({"ECM_ES_USERNAME": "ecm"}, "set both"),
        ({"ECM_ES_PASSWORD": "x"}, "set both"),
        ({"ECM_ES_USERNAME": "u", "ECM_ES_PASSWORD": "p", "ECM_ES_API_KEY": "k"}, "not both"),
        ({"ECM_ES_CA_CERTS": "/nonexistent/ca.pem"}, "ECM_ES_CA_CERTS"),
    ],
)
def test_from_env_refuses_bad_settings(env, message):
    with pytest.raises(ConfigError, match=message):
        ElasticsearchIndex.from_env(env=env)


def test_from_env_reaches_the_server(es_server, alias):
    index = ElasticsearchIndex.from_env(alias, env={"ECM_ES_URL": es_server})
    index.add([make_doc("d1", "configured words")])
    assert ids(index.search("configured")) == ["d1"]


# ----------------------------------------------------------------------------- errors


def test_an_unreachable_server_is_a_search_error_naming_it():
    (port,) = free_ports(1)  # nothing listens there
    index = ElasticsearchIndex(Elasticsearch(f"http://127.0.0.1:{port}", max_retries=0), "ecm")
    with pytest.raises(SearchError, match=rf"no answer from http://127\.0\.0\.1:{port}.*ECM_ES_URL"):
        index.search("acme")
    with pytest.raises(SearchError, match="cannot index documents"):
        index.add([make_doc("d1", "x")])
    with pytest.raises(QuerySyntaxError, match="unbalanced quote"):  # checked before any request
        index.search('"acme')


def test_a_refused_request_says_what_the_server_said(index, client, alias):
    index.add([make_doc("d1", "x")])
    client.indices.update_aliases(actions=[{"remove": {"index": f"{alias}-*", "alias": alias}}])
    with pytest.raises(SearchError, match=alias):  # bulk with require_alias: not silently re-created
        index.add([make_doc("d2", "y")])
    assert not client.indices.exists(index=alias)


def test_paging_beyond_the_result_window_is_a_usage_error(index):
    with pytest.raises(QuerySyntaxError, match="at most 10000"):
        index.search("acme", limit=100, offset=9950)


# ----------------------------------------------------------------------------- snippets


def test_ocr_text_that_looks_like_markup_is_escaped(index):
    index.add([make_doc("x", "total <mark>not a tag</mark> &amp; <img src=x onerror=alert(1)> fee")])
    (hit,) = index.search("fee").hits
    assert "&lt;mark&gt;not a tag&lt;/mark&gt;" in hit.snippet
    assert "&lt;img" in hit.snippet and "<mark>fee</mark>" in hit.snippet
    assert hit.snippet.count("<mark>") == 1


def test_marked_ranges_reads_html_encoded_highlights():
    text, ranges = marked_ranges("a &lt;b&gt; &amp; <mark>late fee</mark> it&#x27;s &#x2F; <mark>x</mark>")
    assert text == "a <b> & late fee it's / x"
    assert [text[s:e] for s, e in ranges] == ["late", "fee", "x"]  # a marked phrase, word by word


def test_snippet_places_trimmed_highlights_on_their_page():
    # Elasticsearch trims each highlighted value; the match must still land on the right page.
    source = {F_BODY: ["first page\n", "  \n second page with a needle \n"], F_PAGE_NUMBERS: [1, 2]}
    snippet, page = snippet_for_hit(source, {F_BODY: ["second page with a <mark>needle</mark>"]})
    assert page == 2 and "<mark>needle</mark>" in snippet


def test_snippet_of_a_common_word_on_a_long_document_is_fast():
    page = " ".join(["the fee"] * 20_000)  # 40,000 matches
    highlighted = " ".join(["<mark>the</mark> fee"] * 20_000)
    snippet, _ = snippet_for_hit({F_BODY: [page], F_PAGE_NUMBERS: [1]}, {F_BODY: [highlighted]})
    assert snippet.count("<mark>the</mark>") > 10


# ----------------------------------------------------------------------------- the query DSL


def compiled(query: str) -> dict:
    node = parse_query(query)
    assert node is not None
    result = EsQueryCompiler().compile(node)
    assert result is not None
    return result


def test_fuzzy_words_score_below_exact_ones():
    should = compiled("lnvoice")["bool"]["should"]
    fuzzy = [c["constant_score"] for c in should if "constant_score" in c]
    assert fuzzy == [{"filter": {"match": {"body": {"query": "lnvoice", "fuzziness": 1, "fuzzy_transpositions": True,
                                                     "prefix_length": 0, "max_expansions": 128}}},
                      "boost": FUZZY_SCORE}]
    assert {"match": {"body": {"query": "lnvoice"}}} in should


def test_words_with_punctuation_become_phrases_and_filters_do_not_score():
    query = compiled("INV-2018-001 type:invoice amount:>100")
    first, doc_type, amount = query["bool"]["must"]
    assert {"match_phrase": {"body": {"query": "INV-2018-001"}}} in first["bool"]["should"]
    assert doc_type == {"bool": {"filter": [{"term": {"doc_type": "invoice"}}]}}
    assert amount == {"bool": {"filter": [{"range": {"total_amount": {"gt": 100.0}}}]}}


def test_date_ranges_are_half_open_days():
    assert compiled("date:2018-03")["bool"]["filter"] == [
        {"range": {"date": {"format": "strict_date", "gte": "2018-03-01", "lt": "2018-04-01"}}}]


def test_only_negations_match_everything_else():
    assert compiled("-draft") == {"bool": {"must": [{"match_all": {}}],
                                           "must_not": [{"bool": {"should": [
                                               {"match": {"body": {"query": "draft"}}},
                                               {"match": {"source": {"query": "draft"}}},
                                               {"match": {"field_words": {"query": "draft"}}}],
                                               "minimum_should_match": 1}}]}}


def test_highlight_query_leaves_out_negations_and_filters():
    node = parse_query('agreement -delaware type:contract "late fee"')
    assert EsQueryCompiler().highlight_query(node) == {"bool": {"should": [
        {"match": {"body": {"query": "agreement"}}},
        {"match": {"body": {"query": "agreement", "fuzziness": 2, "fuzzy_transpositions": True,
                            "prefix_length": 0, "max_expansions": 128}}},
        {"match_phrase": {"body": {"query": "late fee"}}}], "minimum_should_match": 1}}


def test_the_mapping_has_a_field_for_every_searchable_name():
    from search.fields import QUERY_FIELDS

    properties = index_mappings()["properties"]
    for spec in QUERY_FIELDS.values():
        assert spec.name in properties, spec.name


def api_error(cls, status: int, body) -> Exception:
    from elastic_transport import ApiResponseMeta, HttpHeaders, NodeConfig

    meta = ApiResponseMeta(status=status, http_version="1.1", headers=HttpHeaders(), duration=0.0,
                           node=NodeConfig("http", "127.0.0.1", 9200))
    return cls(message=str(status), meta=meta, body=body)


@pytest.mark.parametrize(
    "error, message",
    [
        (("AuthenticationException", 401, {"error": {"type": "security_exception", "reason": "bad credentials"}}),
         "ECM_ES_USERNAME / ECM_ES_PASSWORD or ECM_ES_API_KEY"),
        (("AuthorizationException", 403, {"error": {"type": "security_exception", "reason": "action denied"}}),
         "grant it read, write, create_index and manage on 'ecm' and 'ecm-\\*'"),
        (("BadRequestError", 400, {"error": {"type": "media_type_header_exception",
                                             "reason": "Accept version must be either version 8 or 7, but found 9"}}),
         "needs an Elasticsearch 9.x server"),
        (("ApiError", 429, {"error": {"type": "es_rejected_execution_exception", "reason": "queue full"}}),
         "overloaded or failing \\(429: queue full\\)"),
        (("NotFoundError", 404, None), "without an Elasticsearch error"),
    ],
)
def test_client_errors_become_actionable_search_errors(error, message):
    import elasticsearch

    from search.es_errors import translate

    name, status, body = error
    translated = translate(api_error(getattr(elasticsearch, name), status, body), "search",
                           Elasticsearch("http://user:pw@es.example:9200"), "ecm")
    assert isinstance(translated, SearchError)
    assert re.search(message, str(translated)), str(translated)
    assert "http://es.example:9200" in str(translated) and "pw" not in str(translated)
