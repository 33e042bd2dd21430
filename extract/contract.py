"""Contract fields: title, parties, effective date, governing law and term.

Contracts state these in sentences, so the work is patterns over the running text (with the
words kept, for page and box), and spaCy entities where a pattern cannot find the name.
Patterns live in ``contract.toml``.
"""

from __future__ import annotations

import re
import tomllib
from functools import lru_cache
from pathlib import Path

from ecm.document import Document
from extract.dates import date_order, find_dates
from extract.found import Found
from extract.layout import Line, TextIndex, doc_lines
from extract.rules import Rules

__all__ = ["CONTRACT_RULES_PATH", "extract_contract_fields"]

CONTRACT_RULES_PATH = Path(__file__).with_name("contract.toml")


@lru_cache(maxsize=2)
def _contract_rules(path: str = str(CONTRACT_RULES_PATH)) -> dict:
    return tomllib.loads(Path(path).read_text(encoding="utf-8"))


def _found(index: TextIndex, start: int, end: int, value, method: str, score: float) -> Found | None:
    page, words = index.words_in(start, end)
    if not words:
        return None
    return Found(value, words, page, method, score)


# ---------------------------------------------------------------- title

def _title(lines: list[Line], index: TextIndex, cr: dict) -> Found | None:
    skip = re.compile(cr["title"]["skip_line"], re.I)
    keyword = re.compile(cr["title"]["keyword"], re.I)
    first = [l for l in lines if l.page == 1][: cr["title"]["max_lines"]]
    for i, line in enumerate(first):
        text = re.sub(r"\[[^\]]*\]|\([^)]*\)", " ", line.text)
        text = re.sub(r"\s+", " ", text).strip(" .:-*_")
        if not text or skip.search(line.text) or not keyword.search(text):
            continue
        if len(text.split()) > cr["title"]["max_words"] or re.match(r"(?i)(this|the|whereas|in)\b", text):
            continue
        words = list(line.words)
        prev = first[i - 1] if i else None
        # A title broken over two lines ("MUTUAL NONDISCLOSURE" / "AGREEMENT").
        if prev is not None and not skip.search(prev.text) and prev.text.isupper() and text.isupper() \
                and len(prev.text.split()) <= 5 and len(text.split()) <= 2 and not keyword.search(prev.text):
            text = f"{prev.text.strip()} {text}"
            words = list(prev.words) + words
        page = line.page
        return Found(text, [w for w in words], page, "position", 0.95)
    m = re.search(cr["title"]["preamble"], index.text[:4000])
    if m:
        return _found(index, m.start(1), m.end(1), re.sub(r"\s+", " ", m.group(1)).strip(), "pattern", 0.8)
    return None


# ---------------------------------------------------------------- parties

def _split_top_level(text: str, cr: dict) -> list[str]:
    """Split a party list on ' and ' / ';' outside parentheses and quotes."""
    parts, depth, buf, i = [], 0, "", 0
    sep = re.compile(cr["parties"]["separator"], re.I)
    while i < len(text):
        c = text[i]
        if c in "([":
            depth += 1
        elif c in ")]":
            depth = max(0, depth - 1)
        if depth == 0:
            m = sep.match(text, i)
            if m:
                parts.append(buf)
                buf = ""
                i = m.end()
                continue
        buf += c
        i += 1
    parts.append(buf)
    return parts


def _party_name(chunk: str, cr: dict) -> str | None:
    chunk = re.sub(r"\s+", " ", chunk).strip()
    chunk = re.sub(cr["parties"]["lead"], "", chunk, flags=re.I).strip()
    cut = re.search(cr["parties"]["name_end"], chunk)
    name = chunk[: cut.start()] if cut else chunk
    # Words after the last legal suffix are an address or a description ("..., Inc. a Georgia
    # corporation", "... GmbH & Co. KG Glockengiesserwall 3"), not the name.
    tail = re.match(cr["parties"]["through_last_suffix"], name)
    if tail and tail.end() < len(name.rstrip(" ,.")):
        name = tail.group(0)
    name = name.strip(" ,;:.\"'“”‘’").strip()
    if name.endswith((" Inc", " Ltd", " Corp", " Co", " L.P", " N.V", " B.V", " S.A", " LLC.")):
        name += "." if not name.endswith(".") else ""
    if not name or not name[0].isupper() or len(name) > 90 or len(name.split()) > 10:
        return None
    if re.fullmatch(cr["parties"]["generic"], name.strip("\"'“”‘’ "), flags=re.I):
        return None
    if re.search(cr["parties"]["not_names"], name, flags=re.I):
        return None
    return name


def _parties(index: TextIndex, cr: dict) -> Found | None:
    text = index.text[: cr["parties"]["search_chars"]]
    flat = text.replace("\n", " ")  # same length: offsets stay valid
    for pattern in cr["parties"]["preamble"]:
        m = re.search(pattern, flat, flags=re.I | re.S)
        if not m:
            continue
        span_start, body = m.start("body"), m.group("body")
        names: list[str] = []
        for chunk in _split_top_level(body, cr):
            name = _party_name(chunk, cr)
            if name and name.lower() not in {n.lower() for n in names}:
                names.append(name)
        if len(names) >= 1:
            names = names[: cr["parties"]["max_parties"]]
            found = _found(index, span_start, span_start + len(body), names, "pattern",
                           0.95 if len(names) >= 2 else 0.7)
            if found:
                return found
    # Fallback: organisations spaCy finds in the opening text.
    from extract.nlp import entities

    opening = flat[:1500]
    orgs: list[tuple[str, int, int]] = []
    for ent, _label, s, e in entities(opening, ("ORG",)):
        name = _party_name(ent, cr)  # the same filters as the preamble's names
        # Outside a party list spaCy's ORGs are often headings or departments ("Business
        # Development", "Customers"): only names with a legal-entity suffix count here.
        if not name or not re.match(cr["parties"]["through_last_suffix"], name):
            continue
        if name.lower() not in {o[0].lower() for o in orgs}:
            orgs.append((name, s, e))
    if orgs:
        orgs = orgs[:2]
        return _found(index, orgs[0][1], orgs[-1][2], [o[0] for o in orgs], "ner", 0.8)
    return None


# ---------------------------------------------------------------- effective date

def _effective_date(index: TextIndex, order: str, cr: dict) -> Found | None:
    rules = cr["effective_date"]
    text = index.text
    head = text[: rules["search_chars"]]
    skip_line = re.compile(rules["skip_line"], re.I)
    best: tuple[float, int, object] | None = None
    for rank, hit in enumerate(find_dates(head, order)):
        line_start = head.rfind("\n", 0, hit.start) + 1
        line_end = head.find("\n", hit.end)
        if skip_line.search(head[line_start: line_end if line_end >= 0 else len(head)]):
            continue  # EDGAR page footers ("Source: ..., 10-K, 3/5/2001") are filing dates
        before = head[max(0, hit.start - rules["context_chars"]): hit.start].replace("\n", " ").lower()
        after = head[hit.end: hit.end + 40].replace("\n", " ").lower()
        score = rules["first_date_score"]
        for phrase, weight in rules["before"].items():
            if re.search(phrase, before):
                score = max(score, weight)
        if re.search(rules["after_defined"], after):
            score = max(score, 1.0)
        score -= 0.01 * rank  # earlier is better among equals
        if best is None or score > best[0]:
            best = (score, rank, hit)
    if best is None:
        return None
    score, _rank, hit = best
    return _found(index, hit.start, hit.end, hit.value, "pattern", min(score, 1.0))


# ---------------------------------------------------------------- governing law

def _clean_place(place: str, cr: dict) -> str:
    place = re.sub(r"\s+", " ", place).strip(" ,.;")
    place = re.split(r"\.\s", place)[0]  # "Massachusetts. The parties...": the sentence ended
    place = re.sub(cr["governing_law"]["strip_prefix"], "", place, flags=re.I).strip()
    place = re.split(cr["governing_law"]["stop"], place, flags=re.I)[0].strip(" ,.;")
    if re.fullmatch(cr["governing_law"]["not_places"], place, flags=re.I):
        return ""
    return place


def _governing_law(index: TextIndex, cr: dict) -> Found | None:
    flat = index.text.replace("\n", " ")
    for score, pattern in ((1.0, p) for p in cr["governing_law"]["patterns"]):
        for m in re.finditer(pattern, flat, flags=re.S):
            place = _clean_place(m.group("place"), cr)
            if place and place[0].isupper() and len(place.split()) <= 6:
                return _found(index, m.start("place"), m.start("place") + len(place), place, "pattern", score)
    # Fallback: a place spaCy finds in a sentence about governing law or jurisdiction.
    from extract.nlp import entities

    for m in re.finditer(cr["governing_law"]["sentence"], flat, flags=re.I):
        start = max(0, m.start() - 200)
        window = flat[start: m.end() + 300]
        for ent, _label, s, e in entities(window, ("GPE",)):
            place = _clean_place(ent, cr)
            if place and place[0].isupper():
                return _found(index, start + s, start + e, place, "ner", 0.8)
    return None


# ---------------------------------------------------------------- term

def _number(text: str, cr: dict) -> int | None:
    text = text.lower().strip()
    if text.isdigit():
        return int(text)
    words = cr["term"]["numbers"]
    if text in words:
        return int(words[text])
    parts = re.split(r"[\s-]+", text)
    if len(parts) == 2 and parts[0] in words and parts[1] in words:
        return int(words[parts[0]]) + int(words[parts[1]])
    return None


def _term(index: TextIndex, cr: dict) -> Found | None:
    flat = index.text.replace("\n", " ")
    rules = cr["term"]
    best: tuple[float, re.Match, str] | None = None
    for m in re.finditer(rules["duration"], flat, flags=re.I):
        n = _number(m.group("paren") or m.group("num"), cr)
        if not n or n > 100:
            continue
        unit = m.group("unit").lower()
        # The duration as the contract states it: "twelve (12) months" is P12M, not P1Y.
        value = f"P{n}Y" if unit.startswith("year") else f"P{n}M"
        context = flat[max(0, m.start() - rules["context_chars"]): m.end() + 60].lower()
        score = 0.0
        for phrase, weight in rules["context"].items():
            if re.search(phrase, context):
                score = max(score, weight)
        for phrase, penalty in rules["penalty"].items():
            if re.search(phrase, context):
                score -= penalty
        if score > 0 and (best is None or score > best[0]):
            best = (score, m, value)
    if best is None:
        return None
    score, m, value = best
    return _found(index, m.start(), m.end(), value, "pattern", min(score, 1.0))


# ---------------------------------------------------------------- all fields

def extract_contract_fields(doc: Document, rules: Rules) -> dict[str, Found]:
    lines = doc_lines(doc)
    if not lines:
        return {}
    cr = _contract_rules()
    index = TextIndex(lines)
    order = date_order(index.text, rules)
    wanted = rules.doc_type_fields["contract"]
    finders = {
        "title": lambda: _title(lines, index, cr),
        "parties": lambda: _parties(index, cr),
        "effective_date": lambda: _effective_date(index, order, cr),
        "governing_law": lambda: _governing_law(index, cr),
        "term": lambda: _term(index, cr),
    }
    out: dict[str, Found] = {}
    for name in wanted:
        found = finders[name]()
        if found is not None:
            out[name] = found
    return out
