"""Unit tests of the query parser (search.query): AST shapes and error messages.
Independent of any backend."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from ecm.errors import QuerySyntaxError
from search.query import (
    And,
    DateRange,
    Keyword,
    Not,
    NumberRange,
    Or,
    Phrase,
    Word,
    fuzziness_for,
    parse_query,
)


def test_empty_and_blank_queries_parse_to_nothing():
    assert parse_query("") is None
    assert parse_query("   \t ") is None


def test_bare_words_are_anded():
    assert parse_query("acme invoice") == And((Word("acme"), Word("invoice", fuzziness=1)))


def test_explicit_and_is_the_same_as_juxtaposition():
    assert parse_query("acme AND invoice") == parse_query("acme invoice")


def test_or_binds_tighter_than_the_implicit_and():
    assert parse_query("acme invoice OR receipt") == And(
        (Word("acme"), Or((Word("invoice", fuzziness=1), Word("receipt", fuzziness=1))))
    )


def test_parentheses_group():
    assert parse_query("(acme invoice) OR bolt") == Or(
        (And((Word("acme"), Word("invoice", fuzziness=1))), Word("bolt"))
    )


def test_lower_case_operators_are_words():
    assert parse_query("cats or dogs") == And((Word("cats"), Word("or"), Word("dogs")))


@pytest.mark.parametrize("query", ["NOT draft", "-draft"])
def test_negation(query):
    assert parse_query(f"memo {query}") == And((Word("memo"), Not(Word("draft"))))


def test_negated_words_are_exact_not_fuzzy():
    # Excluding near misses would silently drop unrelated documents ("craft" for -draft).
    assert parse_query("-(draft OR vendor:sample)") == Not(
        Or((Word("draft"), Word("sample", "vendor_name")))
    )


def test_negated_phrase_and_group():
    assert parse_query('-"late fee"') == Not(Phrase("late fee"))
    assert parse_query("-(a OR b)") == Not(Or((Word("a"), Word("b"))))


def test_hyphen_inside_a_word_is_not_negation():
    assert parse_query("e-mail") == Word("e-mail")


def test_phrase():
    assert parse_query('"payment due" acme') == And((Phrase("payment due"), Word("acme")))


@pytest.mark.parametrize(
    "word, distance",
    [("acme", 0), ("fives", 1), ("invoice", 1), ("eightchr", 1), ("ninechars", 2), ("INV-2018", 0), ("12345", 0), ("Olive9", 0)],
)
def test_fuzziness_depends_on_length_and_letters_only(word, distance):
    assert fuzziness_for(word) == distance


@pytest.mark.parametrize(
    "query, expected",
    [
        ("vendor:acme", Word("acme", "vendor_name")),
        ("vendor_name:acme", Word("acme", "vendor_name")),
        ("number:INV-7", Word("INV-7", "invoice_number")),
        ("invoice_number:INV-7", Word("INV-7", "invoice_number")),
        ("party:globex", Word("globex", "parties", 1)),
        ("parties:globex", Word("globex", "parties", 1)),
        ("law:delaware", Word("delaware", "governing_law", 1)),
        ("governing_law:delaware", Word("delaware", "governing_law", 1)),
        ("title:license", Word("license", "title", 1)),
        ("source:scan.pdf", Word("scan.pdf", "source")),
        ('vendor:"acme corp"', Phrase("acme corp", "vendor_name")),
        ("VENDOR:acme", Word("acme", "vendor_name")),
    ],
)
def test_text_field_prefixes(query, expected):
    assert parse_query(query) == expected


def test_field_applies_to_a_group():
    assert parse_query("vendor:(acme OR bolt)") == Or(
        (Word("acme", "vendor_name"), Word("bolt", "vendor_name"))
    )


def test_keyword_fields_are_normalised():
    assert parse_query("type:Invoice") == Keyword("doc_type", "invoice")
    assert parse_query("id:Doc-1") == Keyword("id", "Doc-1")
    assert parse_query("sha256:" + "AB" * 32) == Keyword("sha256", "ab" * 32)
    assert parse_query("tag:urgent") == Keyword("tags", "urgent")
    assert parse_query("tag:Audit-2026") == Keyword("tags", "audit-2026")
    assert parse_query("review:needs-review") == Keyword("review", "needs-review")
    assert parse_query("review:Accepted") == Keyword("review", "accepted")
    assert parse_query("-review:auto") == Not(Keyword("review", "auto"))


def test_unknown_review_state_says_which_exist():
    with pytest.raises(QuerySyntaxError, match="unknown review state 'pending'.*needs-review, accepted, auto"):
        parse_query("review:pending")


@pytest.mark.parametrize(
    "query, start, end",
    [
        ("date:2018", date(2018, 1, 1), date(2019, 1, 1)),
        ("date:2018-03", date(2018, 3, 1), date(2018, 4, 1)),
        ("date:2018-12", date(2018, 12, 1), date(2019, 1, 1)),
        ("date:2018-03-05", date(2018, 3, 5), date(2018, 3, 6)),
        ("date:2018-01-01..2018-12-31", date(2018, 1, 1), date(2019, 1, 1)),
        ("date:2018..2019-06", date(2018, 1, 1), date(2019, 7, 1)),
        ("date:..2018-12-31", None, date(2019, 1, 1)),
        ("date:2018-06-01..", date(2018, 6, 1), None),
        ("date:>=2019-01-01", date(2019, 1, 1), None),
        ("date:>2019", date(2020, 1, 1), None),
        ("date:<2019-03", None, date(2019, 3, 1)),
        ("date:<=2019-03", None, date(2019, 4, 1)),
    ],
)
def test_date_ranges_are_half_open_day_ranges(query, start, end):
    assert parse_query(query) == DateRange("date", start, end)


def test_specific_date_fields():
    assert parse_query("invoice_date:2018") == DateRange("invoice_date", date(2018, 1, 1), date(2019, 1, 1))
    assert parse_query("due_date:2018").field == "due_date"
    assert parse_query("effective_date:2018").field == "effective_date"
    assert parse_query("created:2024").field == "created_at"


@pytest.mark.parametrize(
    "query, expected",
    [
        ("amount:100..200", NumberRange("total_amount", 100.0, 200.0)),
        ("amount:>50", NumberRange("total_amount", 50.0, None, include_low=False)),
        ("amount:>=50", NumberRange("total_amount", 50.0, None)),
        ("amount:<50.5", NumberRange("total_amount", None, 50.5, include_high=False)),
        ("amount:<=50", NumberRange("total_amount", None, 50.0)),
        ("amount:..200", NumberRange("total_amount", None, 200.0)),
        ("amount:100..", NumberRange("total_amount", 100.0, None)),
        ("amount:99.50", NumberRange("total_amount", 99.5, 99.5)),
        ("total:10", NumberRange("total_amount", 10.0, 10.0)),
        ("total_amount:10", NumberRange("total_amount", 10.0, 10.0)),
        ("tax:>1", NumberRange("tax_amount", 1.0, None, include_low=False)),
        ("tax_amount:1", NumberRange("tax_amount", 1.0, 1.0)),
    ],
)
def test_amount_ranges(query, expected):
    assert parse_query(query) == expected


@pytest.mark.parametrize(
    "query, message",
    [
        ('"late fee', "unbalanced quote"),
        ("(acme OR bolt", "missing ')'"),
        ("acme)", "unmatched ')'"),
        ("()", "empty parentheses"),
        ("colour:red", "unknown field colour:"),
        ("vendor: acme", "vendor: needs a value"),
        ("date:2018-13-01", "bad date '2018-13-01'"),
        ("date:2018-02-30", "bad date"),
        ("date:yesterday", "write YYYY, YYYY-MM or YYYY-MM-DD"),
        ("date:2019..2018", "empty range"),
        ("date:..", "needs at least one end"),
        ("amount:abc", "bad amount 'abc'"),
        ("amount:$100", "no currency sign"),
        ("amount:1,000", "thousands separator"),
        ("amount:200..100", "empty range"),
        ("type:invoce", "unknown document type"),
        ("sha256:abc", "64 hexadecimal digits"),
        ("OR acme", "needs a term before it"),
        ("acme OR", "needs a term on both sides"),
        ("acme NOT", "needs a term after it"),
        ("AND acme", "needs a term on both sides"),
        ("vendor:(acme type:invoice)", "cannot be nested"),
        ("x" * 3000, "shorten it"),
    ],
)
def test_syntax_errors_say_what_and_how(query, message):
    with pytest.raises(QuerySyntaxError) as err:
        parse_query(query)
    text = str(err.value)
    assert message in text
    assert "\n" not in text


def test_unknown_field_message_lists_fields_and_quoting():
    with pytest.raises(QuerySyntaxError) as err:
        parse_query("re:invoice")
    assert "vendor:" in str(err.value) and '"re:"' in str(err.value)


def test_typographic_quotes_make_phrases():
    assert parse_query("\u201clate fee\u201d") == Phrase("late fee")


def test_quoted_colon_is_text():
    assert parse_query('"re: invoice"') == Phrase("re: invoice")


def test_times_and_urls_in_quotes():
    assert parse_query("10:30") == Word("10:30")


# ----------------------------------------------------------------------------- QUERY.md stays true

QUERY_MD = Path(__file__).resolve().parents[1] / "search" / "QUERY.md"


def documented_queries() -> list[str]:
    """Every query in QUERY.md: the examples block and the first cell of "you type" tables."""
    queries: list[str] = []
    in_examples = in_table = False
    for line in QUERY_MD.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            in_examples = line.strip() == "```examples"
            continue
        if in_examples and line.strip():
            queries.append(line.strip())
        if line.startswith("| you type"):
            in_table = True
        elif not line.startswith("|"):
            in_table = False
        elif in_table and not line.startswith("|---"):
            queries.extend(re.findall(r"`([^`]+)`", line.split("|")[1]))
    return queries


def test_query_md_is_found_and_has_examples():
    assert len(documented_queries()) > 30


@pytest.mark.parametrize("query", documented_queries())
def test_every_documented_query_parses(query):
    assert parse_query(query) is not None
