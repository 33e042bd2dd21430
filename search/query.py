"""The query language: a small AST (plain dataclasses) and the parser from a search-box string.

Independent of any search engine: each backend (tantivy, Elasticsearch) compiles the same AST.
The parser decides *what* is asked (which field, which range, how fuzzy); the backend decides
how its analyser splits words. Syntax reference for users: ``search/QUERY.md``.

Grammar (``OR`` binds tighter than the implicit AND, as in Gmail and Google search)::

    query   := and_ EOF
    and_    := or_ ( ["AND"] or_ )*
    or_     := unary ( "OR" unary )*
    unary   := ("NOT" | "-") unary | atom
    atom    := "(" and_ ")" | FIELD ":" value | PHRASE | WORD
    value   := PHRASE | WORD | "(" and_ ")"      -- the field applies to every term inside
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date
from typing import Union

from ecm.document import DOC_TYPES
from ecm.errors import QuerySyntaxError
from search.fields import (
    DOC_TYPE,
    REVIEW,
    REVIEW_STATES,
    SHA256,
    TAGS,
    FieldKind,
    QueryField,
    lookup_query_field,
    query_field_names,
)

__all__ = [
    "Node",
    "Word",
    "Phrase",
    "Keyword",
    "DateRange",
    "NumberRange",
    "And",
    "Or",
    "Not",
    "parse_query",
    "fuzziness_for",
    "MAX_QUERY_CHARS",
]

MAX_QUERY_CHARS = 2000  # longer input is a paste accident, not a query; refuse with a message


# ----------------------------------------------------------------------------- the AST


@dataclass(frozen=True)
class Word:
    """One word. ``field`` None = anywhere in the text (pages, file name, field values);
    otherwise a canonical text field name (``vendor_name``, ``source``, ...).
    ``fuzziness`` is the edit distance also accepted, at a lower score than an exact match.
    A word the backend's analyser splits (``INV-2018-001``, ``Domino's``) is matched as a phrase."""

    text: str
    field: str | None = None
    fuzziness: int = 0


@dataclass(frozen=True)
class Phrase:
    """Words that must appear next to each other, in order."""

    text: str
    field: str | None = None


@dataclass(frozen=True)
class Keyword:
    """An exact, whole-value match on a keyword field: ``doc_type``, ``id``, ``sha256``, ``tags``,
    ``review``. ``value`` is already normalised (doc types, sha256, tags, review states lower-cased)."""

    field: str
    value: str


@dataclass(frozen=True)
class DateRange:
    """Days in ``[start, end)``; either end may be open (None). ``field`` is a canonical date
    field, ``date`` (any of the document's dates) or ``created_at``."""

    field: str
    start: date | None
    end: date | None


@dataclass(frozen=True)
class NumberRange:
    """Amounts between ``low`` and ``high``; either end may be open (None)."""

    field: str
    low: float | None
    high: float | None
    include_low: bool = True
    include_high: bool = True


@dataclass(frozen=True)
class And:
    children: tuple["Node", ...]


@dataclass(frozen=True)
class Or:
    children: tuple["Node", ...]


@dataclass(frozen=True)
class Not:
    child: "Node"


Node = Union[Word, Phrase, Keyword, DateRange, NumberRange, And, Or, Not]


def fuzziness_for(word: str) -> int:
    """Edit distance tolerated for an OCR-garbled word: 1 from 5 letters, 2 from 9.

    Only purely alphabetic words: a near miss on ``INV-10023`` or ``1250.00`` is a different
    invoice or amount, not an OCR error worth returning."""
    if not word.isalpha() or len(word) < 5:
        return 0
    return 2 if len(word) >= 9 else 1


# ----------------------------------------------------------------------------- lexer


@dataclass(frozen=True)
class _Token:
    kind: str  # "(" ")" "OR" "AND" "NOT" "FIELD" "PHRASE" "WORD" "EOF"
    text: str
    pos: int  # 0-based offset in the query, for messages


_FIELD_RE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*):(.*)", re.DOTALL)
_WORD_END = set('()"')
_OPERATORS = {"OR", "AND", "NOT"}  # upper case only: "or" is an ordinary word


def _tokenize(query: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(query)
    while i < n:
        c = query[i]
        if c.isspace():
            i += 1
        elif c in "()":
            tokens.append(_Token(c, c, i))
            i += 1
        elif c == '"':
            end = query.find('"', i + 1)
            if end < 0:
                raise QuerySyntaxError(
                    f'unbalanced quote at position {i + 1}: close the phrase with a second " '
                    f'(e.g. "late fee") or remove the quote'
                )
            tokens.append(_Token("PHRASE", query[i + 1 : end], i))
            i = end + 1
        elif c == "-" and i + 1 < n and not query[i + 1].isspace() and query[i + 1] != ")":
            tokens.append(_Token("NOT", "-", i))
            i += 1
        else:
            j = i
            while j < n and not query[j].isspace() and query[j] not in _WORD_END:
                j += 1
            word = query[i:j]
            field = _FIELD_RE.fullmatch(word)
            if field:
                name, value = field.group(1), field.group(2)
                tokens.append(_Token("FIELD", name, i))
                if value:
                    tokens.append(_Token("WORD", value, i + len(name) + 1))
                elif j >= n or query[j] not in '"(':
                    raise QuerySyntaxError(
                        f"{name}: needs a value right after the colon, e.g. {name}:word or "
                        f'{name}:"two words" (no space after the colon)'
                    )
            elif word in _OPERATORS:
                tokens.append(_Token(word, word, i))
            else:
                tokens.append(_Token("WORD", word, i))
            i = j
    tokens.append(_Token("EOF", "", n))
    return tokens


# ----------------------------------------------------------------------------- parser


def parse_query(query: str) -> Node | None:
    """Parse a search-box string. Returns None when there is nothing to search for (an empty
    or blank query); raises ``QuerySyntaxError`` with a one-line fix for bad syntax."""
    if len(query) > MAX_QUERY_CHARS:
        raise QuerySyntaxError(
            f"query is {len(query)} characters long; shorten it to at most {MAX_QUERY_CHARS}"
        )
    if not query.strip():
        return None
    # Phrases pasted from word processors and e-mails come with typographic quotes.
    query = query.translate(_TYPOGRAPHIC_QUOTES)
    return _Parser(_tokenize(query)).parse()


_TYPOGRAPHIC_QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"', "\u201e": '"', "\u00ab": '"', "\u00bb": '"'})


_TERM_START = {"(", "NOT", "FIELD", "PHRASE", "WORD"}


class _Parser:
    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.i = 0

    def peek(self) -> _Token:
        return self.tokens[self.i]

    def take(self) -> _Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def parse(self) -> Node | None:
        node = self.and_(None)
        token = self.peek()
        if token.kind == ")":
            raise QuerySyntaxError(
                f"unmatched ')' at position {token.pos + 1}: remove it or add the '(' it closes"
            )
        return node

    def and_(self, field: QueryField | None) -> Node | None:
        children: list[Node] = []
        while self.peek().kind not in ("EOF", ")"):
            if self.peek().kind == "AND":
                token = self.take()
                if not children or self.peek().kind not in _TERM_START:
                    raise QuerySyntaxError(
                        f"AND at position {token.pos + 1} needs a term on both sides, "
                        "e.g. invoice AND acme (AND is optional: words must all match anyway)"
                    )
                continue
            children.append(self.or_(field))
        if not children:
            return None
        return children[0] if len(children) == 1 else And(tuple(children))

    def or_(self, field: QueryField | None) -> Node:
        children = [self.unary(field)]
        while self.peek().kind == "OR":
            token = self.take()
            if self.peek().kind not in _TERM_START:
                raise QuerySyntaxError(
                    f"OR at position {token.pos + 1} needs a term on both sides, "
                    "e.g. invoice OR receipt"
                )
            children.append(self.unary(field))
        return children[0] if len(children) == 1 else Or(tuple(children))

    def unary(self, field: QueryField | None) -> Node:
        if self.peek().kind == "NOT":
            token = self.take()
            if self.peek().kind not in _TERM_START:
                raise QuerySyntaxError(
                    f"{token.text} at position {token.pos + 1} needs a term after it, "
                    "e.g. NOT draft or -draft"
                )
            return Not(_without_fuzziness(self.unary(field)))
        return self.atom(field)

    def atom(self, field: QueryField | None) -> Node:
        token = self.take()
        if token.kind == "(":
            return self.group(token, field)
        if token.kind == "FIELD":
            if field is not None:
                raise QuerySyntaxError(
                    f"{token.text}: at position {token.pos + 1} is inside {field.name}:(...); "
                    "a field prefix cannot be nested, move it out of the parentheses"
                )
            spec = lookup_query_field(token.text)
            if spec is None:
                raise QuerySyntaxError(
                    f"unknown field {token.text}: (known: {query_field_names()}); "
                    f'to search for the text itself, quote it: "{token.text}:"'
                )
            value = self.take()
            if value.kind == "(":
                return self.group(value, spec)
            return _field_term(spec, value.text, quoted=value.kind == "PHRASE")
        if token.kind == "PHRASE":
            if field is not None:
                return _field_term(field, token.text, quoted=True)
            return Phrase(token.text)
        if token.kind == "WORD":
            if field is not None:
                return _field_term(field, token.text, quoted=False)
            return Word(token.text, fuzziness=fuzziness_for(token.text))
        if token.kind == ")":
            raise QuerySyntaxError(
                f"unmatched ')' at position {token.pos + 1}: remove it or add the '(' it closes"
            )
        # OR / AND where a term should be (the callers check the other cases).
        raise QuerySyntaxError(
            f"{token.text} at position {token.pos + 1} needs a term before it, e.g. invoice OR receipt"
        )

    def group(self, open_paren: _Token, field: QueryField | None) -> Node:
        inner = self.and_(field)
        if self.peek().kind != ")":
            raise QuerySyntaxError(
                f"missing ')' for the '(' at position {open_paren.pos + 1}: close the group, "
                "e.g. (invoice OR receipt)"
            )
        self.take()
        if inner is None:
            raise QuerySyntaxError(
                f"empty parentheses at position {open_paren.pos + 1}: put terms inside or remove them"
            )
        return inner


def _without_fuzziness(node: Node) -> Node:
    """Excluding near misses of a word would exclude unrelated documents (-draft would drop
    "craft"): negated words match exactly."""
    if isinstance(node, Word):
        return replace(node, fuzziness=0)
    if isinstance(node, (And, Or)):
        return type(node)(tuple(_without_fuzziness(child) for child in node.children))
    return node  # Not: already exact; filters: no fuzziness


# ----------------------------------------------------------------------------- field values


def _field_term(spec: QueryField, value: str, quoted: bool) -> Node:
    if spec.kind is FieldKind.TEXT:
        if quoted:
            return Phrase(value, spec.name)
        return Word(value, spec.name, fuzziness_for(value))
    if spec.kind is FieldKind.KEYWORD:
        return _keyword(spec, value.strip())
    if spec.kind is FieldKind.DATE:
        return _date_range(spec.name, value.strip())
    return _number_range(spec.name, value.strip())


_SHA256_RE = re.compile(r"[0-9a-f]{64}")


# Keyword fields with a closed set of values: what they are called in a message, the values, the
# prefix to write.
_CLOSED_SETS = {
    DOC_TYPE: ("document type", DOC_TYPES, "type:"),
    REVIEW: ("review state", REVIEW_STATES, "review:"),
}


def _keyword(spec: QueryField, value: str) -> Keyword:
    if spec.name in _CLOSED_SETS:
        noun, allowed, prefix = _CLOSED_SETS[spec.name]
        label = value.lower()
        if label not in allowed:
            raise QuerySyntaxError(f"unknown {noun} {value!r}: write {prefix} followed by one of {', '.join(allowed)}")
        return Keyword(spec.name, label)
    if spec.name == SHA256:
        digest = value.lower()
        if not _SHA256_RE.fullmatch(digest):
            raise QuerySyntaxError(
                f"sha256:{value} is not a sha256: write the 64 hexadecimal digits, e.g. sha256:9f86d0...(64 digits)"
            )
        return Keyword(spec.name, digest)
    if not value:
        raise QuerySyntaxError(f"{spec.name}: needs a value, e.g. {spec.name}:abc")
    if spec.name == TAGS:
        return Keyword(spec.name, value.lower())  # tags are stored lower-case (ecm.tags)
    return Keyword(spec.name, value)


_DATE_RE = re.compile(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?")


def _period(text: str, field: str, raw: str) -> tuple[date, date]:
    """``2018`` / ``2018-03`` / ``2018-03-05`` -> the days it covers, as ``[first, next)``."""
    m = _DATE_RE.fullmatch(text)
    try:
        if not m:
            raise ValueError(text)
        year = int(m.group(1))
        if m.group(3):
            first = date(year, int(m.group(2)), int(m.group(3)))
            return first, date.fromordinal(first.toordinal() + 1)
        if m.group(2):
            first = date(year, int(m.group(2)), 1)
            return first, (date(year + 1, 1, 1) if first.month == 12 else date(year, first.month + 1, 1))
        return date(year, 1, 1), date(year + 1, 1, 1)
    except ValueError:
        raise QuerySyntaxError(
            f"bad date {text!r} in {field}:{raw}: write YYYY, YYYY-MM or YYYY-MM-DD, "
            f"e.g. {field}:2018-03 or {field}:2018-01-01..2018-12-31 or {field}:>=2019-01-01"
        ) from None


def _date_range(field: str, raw: str) -> DateRange:
    if ".." in raw:
        low_text, _, high_text = raw.partition("..")
        if not low_text and not high_text:
            raise QuerySyntaxError(
                f"{field}:.. needs at least one end, e.g. {field}:2018-01-01.. or {field}:..2018-12-31"
            )
        start = _period(low_text, field, raw)[0] if low_text else None
        end = _period(high_text, field, raw)[1] if high_text else None
    elif raw.startswith((">=", "<=")):
        first, after = _period(raw[2:], field, raw)
        start, end = (first, None) if raw[0] == ">" else (None, after)
    elif raw.startswith((">", "<")):
        first, after = _period(raw[1:], field, raw)
        start, end = (after, None) if raw[0] == ">" else (None, first)
    else:
        start, end = _period(raw, field, raw)
    if start is not None and end is not None and start >= end:
        raise QuerySyntaxError(
            f"{field}:{raw} is an empty range (the start is after the end); "
            f"write the earlier date first, e.g. {field}:2018-01-01..2018-12-31"
        )
    return DateRange(field, start, end)


_NUMBER_RE = re.compile(r"-?(\d+(\.\d*)?|\.\d+)")


def _number(text: str, field: str, raw: str) -> float:
    if not _NUMBER_RE.fullmatch(text):
        raise QuerySyntaxError(
            f"bad amount {text!r} in {field}:{raw}: write a plain number such as 100 or 99.50 "
            f"(no currency sign or thousands separator), e.g. {field}:100..200 or {field}:>50"
        )
    return float(text)


def _number_range(field: str, raw: str) -> NumberRange:
    if ".." in raw:
        low_text, _, high_text = raw.partition("..")
        if not low_text and not high_text:
            raise QuerySyntaxError(
                f"{field}:.. needs at least one end, e.g. {field}:100.. or {field}:..200"
            )
        low = _number(low_text, field, raw) if low_text else None
        high = _number(high_text, field, raw) if high_text else None
        if low is not None and high is not None and low > high:
            raise QuerySyntaxError(
                f"{field}:{raw} is an empty range (the low end is above the high end); "
                f"write the smaller number first, e.g. {field}:100..200"
            )
        return NumberRange(field, low, high)
    for op in (">=", "<=", ">", "<"):
        if raw.startswith(op):
            value = _number(raw[len(op) :], field, raw)
            inclusive = op.endswith("=")
            if op[0] == ">":
                return NumberRange(field, value, None, include_low=inclusive)
            return NumberRange(field, None, value, include_high=inclusive)
    value = _number(raw, field, raw)
    return NumberRange(field, value, value)
