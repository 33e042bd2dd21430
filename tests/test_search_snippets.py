"""Unit tests of snippet rendering (search.snippets): windows, pages, escaping."""

from __future__ import annotations

import html
import re

from search.snippets import PagedText, leading_snippet, snippet_from_matches


def visible(snippet: str) -> str:
    return html.unescape(re.sub(r"</?mark>", "", snippet))


def span(text: str, word: str, start: int = 0) -> tuple[int, int]:
    at = text.index(word, start)
    return at, at + len(word)


def test_page_of_maps_offsets_to_pages():
    paged = PagedText.from_pages([(1, "first page"), (2, ""), (3, "third")])
    assert paged.page_of(0) == (1, 0, 10)
    assert paged.page_of(paged.text.index("third")) == (3, 14, 19)


def test_matches_are_marked_and_everything_else_escaped():
    paged = PagedText.from_pages([(1, 'a <b>bold</b> & "quoted" claim')])
    html_snippet, page = snippet_from_matches(paged, [span(paged.text, "bold")])
    assert page == 1
    assert html_snippet == "a &lt;b&gt;<mark>bold</mark>&lt;/b&gt; &amp; &quot;quoted&quot; claim"


def test_marked_text_is_escaped_too():
    paged = PagedText.from_pages([(1, "x <script>alert(1)</script> y")])
    html_snippet, _ = snippet_from_matches(paged, [span(paged.text, "<script>")])
    assert "<mark>&lt;script&gt;</mark>" in html_snippet and "<script>" not in html_snippet


def test_window_is_centred_and_cut_at_spaces():
    text = " ".join(f"w{i:03}" for i in range(300))
    paged = PagedText.from_pages([(1, text)])
    html_snippet, _ = snippet_from_matches(paged, [span(text, "w150")])
    shown = visible(html_snippet)
    assert shown.startswith("…w") and shown.endswith("…")
    assert 150 <= len(shown) <= 230
    words = shown.strip("…").split()
    assert all(len(w) == 4 for w in words)  # no word cut in half
    assert 10 <= words.index("w150") <= 25  # context before the match


def test_window_prefers_the_cluster_with_most_distinct_words():
    text = "alpha " + "x " * 300 + "alpha beta gamma " + "y " * 100
    paged = PagedText.from_pages([(1, text)])
    first = span(text, "alpha")
    cluster = [span(text, w, 400) for w in ("alpha", "beta", "gamma")]
    html_snippet, _ = snippet_from_matches(paged, [first, *cluster])
    assert "<mark>alpha</mark> <mark>beta</mark> <mark>gamma</mark>" in html_snippet


def test_window_stays_on_the_page_of_the_match():
    paged = PagedText.from_pages([(1, "page one text " * 5), (2, "needle on page two " * 2)])
    html_snippet, page = snippet_from_matches(paged, [span(paged.text, "needle")])
    assert page == 2
    assert "page one" not in html_snippet


def test_whitespace_and_control_characters_are_collapsed():
    paged = PagedText.from_pages([(1, "line one\n\n\tline\x00two\x0c end")])
    html_snippet, _ = snippet_from_matches(paged, [span(paged.text, "two")])
    assert html_snippet == "line one line <mark>two</mark> end"


def test_overlapping_matches_are_marked_once():
    paged = PagedText.from_pages([(1, "abc def")])
    html_snippet, _ = snippet_from_matches(paged, [(0, 3), (1, 2), (4, 7)])
    assert html_snippet == "<mark>abc</mark> <mark>def</mark>"


def test_leading_snippet_skips_empty_pages_and_truncates():
    paged = PagedText.from_pages([(1, "   "), (2, "word " * 100)])
    html_snippet, page = leading_snippet(paged)
    assert page == 2
    assert html_snippet.endswith("…") and len(html_snippet) <= 201
    assert leading_snippet(PagedText.from_pages([])) == ("", None)
    assert leading_snippet(PagedText.from_pages([(1, "")])) == ("", None)


def test_no_matches_falls_back_to_leading_text():
    paged = PagedText.from_pages([(1, "short <text>")])
    assert snippet_from_matches(paged, []) == ("short &lt;text&gt;", 1)


def test_a_match_wider_than_the_window_still_gives_a_snippet():
    text = "start " + "x" * 300 + " end"
    paged = PagedText.from_pages([(1, text)])
    html_snippet, page = snippet_from_matches(paged, [(0, len(text))])
    assert page == 1 and html_snippet.startswith("<mark>start")
