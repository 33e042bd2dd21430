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
    if name.lower().endswith((" inc", " ltd", " corp", " co", " l.p", " n.v", " b.v", " s.a", " llc.")):
        name += "." if not name.endswith(".") else ""
    if not name or len(name) > 90 or len(name.split()) > 10:
        return None
    # A name starts with a capital, unless it is a company's own spelling ("salesforce.com, inc.",
    # "uDate.com, Inc."): a first word with a dot or a capital inside, then a legal suffix.
    first = name.split()[0]
    if not (name[0].isupper() or (re.search(r"[.A-Z]", first) and re.match(cr["parties"]["through_last_suffix"], name))):
        return None
    if re.fullmatch(cr["parties"]["bare_suffix"], name):
        return None  # "L.P", "LLC": a suffix split off its name
    if re.fullmatch(cr["parties"]["generic"], name.strip("\"'“”‘’ "), flags=re.I):
        return None
    if re.search(cr["parties"]["not_names"], name, flags=re.I):
        return None
    return name


def _signature_parties(index: TextIndex, cr: dict) -> Found | None:
    """The names above the "By:" lines of the signature blocks: a letter agreement names its
    parties in the letterhead and the acceptance, not in a "between ... and ..." sentence."""
    rules = cr["parties"]["signature"]
    text = index.text
    names: list[tuple[str, int, int]] = []
    for m in re.finditer(rules["by_line"], text, flags=re.I | re.M):
        if m.start() == 0:
            continue
        prev_end = m.start() - 1  # the newline ending the line above
        prev_start = text.rfind("\n", 0, prev_end) + 1
        line = text[prev_start:prev_end].strip()
        if not line or re.search(rules["not_names"], line, flags=re.I):
            continue
        name = _party_name(line, cr)
        if name and name.lower() not in {n[0].lower() for n in names}:
            names.append((name, prev_start, prev_end))
    if not names:
        return None
    names = names[: cr["parties"]["max_parties"]]
    return _found(index, names[0][1], names[-1][2], [n[0] for n in names], "pattern", rules["score"])


def _parties(index: TextIndex, cr: dict) -> Found | None:
    text = index.text[: cr["parties"]["search_chars"]]
    flat = text.replace("\n", " ")  # same length: offsets stay valid
    # The earliest party list in the opening, whichever pattern finds it.
    matches = [m for p in cr["parties"]["preamble"] if (m := re.search(p, flat, flags=re.I | re.S))]
    for m in sorted(matches, key=lambda m: m.start()):
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
    signed = _signature_parties(index, cr)
    if signed:
        return signed
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

def _date_score(text: str, hit, rank: int, rules: dict) -> float | None:
    """How surely the date ``hit`` in ``text`` is the agreement's own date (None: not at all)."""
    line_start = text.rfind("\n", 0, hit.start) + 1
    line_end = text.find("\n", hit.end)
    if re.search(rules["skip_line"], text[line_start: line_end if line_end >= 0 else len(text)], flags=re.I):
        return None  # EDGAR page footers ("Source: ..., 10-K, 3/5/2001") are filing dates
    before = text[max(0, hit.start - rules["context_chars"]): hit.start].replace("\n", " ").lower()
    after = text[hit.end: hit.end + 40].replace("\n", " ").lower()
    score = rules["first_date_score"]
    for phrase, weight in rules["before"].items():
        if re.search(phrase, before):
            score = max(score, weight)
    if re.search(rules["after_defined"], after):
        score = max(score, 1.0)
    # "the Mutual Nondisclosure Agreement, dated October 6, 2011" is another agreement's date;
    # "terminating on May 31, 2016" is an end date.
    elif any(re.search(p, before) for p in rules["not_own_date"].values()):
        score = rules["not_own_score"]
    return score - 0.01 * rank  # earlier is better among equals


def _effective_date(index: TextIndex, order: str, cr: dict) -> Found | None:
    rules = cr["effective_date"]
    text = index.text
    # "24 th day", "19 t h , 2012": PDF text often spaces out a superscript ordinal; closing it up
    # (the spaces moved behind it) keeps every offset.
    text = re.sub(r"(?<=\d) ?(?:s ?t|n ?d|r ?d|t ?h)\b",
                  lambda m: m.group(0).replace(" ", "") + " " * m.group(0).count(" "), text)
    head = text[: rules["search_chars"]]
    best: tuple[float, object] | None = None
    for rank, hit in enumerate(find_dates(head, order)):
        score = _date_score(head, hit, rank, rules)
        if score is not None and (best is None or score > best[0]):
            best = (score, hit)
    # Without a stated date in the opening, the date beside the signatures: labelled ("Date:
    # 9/4/12") or the first one in the signature block ("IN WITNESS WHEREOF ... 5/17/12").
    if best is None or best[0] < rules["signed_score"]:
        witness = [m.end() for m in re.finditer(rules["signature_block"], text, flags=re.I)]
        for hit in find_dates(text, order):
            before = text[max(0, hit.start - 30): hit.start]
            in_block = any(0 <= hit.start - w <= rules["signature_block_chars"] for w in witness)
            if (in_block or (hit.start >= len(head) and re.search(rules["signed"], before, flags=re.I))) \
                    and _date_score(text, hit, 0, rules) is not None:
                best = (rules["signed_score"], hit)
                break
    if best is None or best[0] < rules["min_score"]:
        return None
    score, hit = best
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


def _durations(flat: str, cr: dict):
    """Every stated duration as (start, end, ISO value): "two (2) years", "the second anniversary"."""
    rules = cr["term"]
    for m in re.finditer(rules["duration"], flat, flags=re.I):
        n = _number(m.group("paren") or m.group("num"), cr)
        if n and n <= 100:
            # The duration as the contract states it: "twelve (12) months" is P12M, not P1Y.
            yield m.start(), m.end(), f"P{n}Y" if m.group("unit").lower().startswith("year") else f"P{n}M"
    for m in re.finditer(rules["anniversary"], flat, flags=re.I):
        n = _number(re.sub(r"(?<=\d)(?:st|nd|rd|th)$", "", m.group("num")), cr)
        if n:
            yield m.start(), m.end(), f"P{n}Y"


def _term_score(flat: str, start: int, end: int, rules: dict) -> float:
    """How surely the duration at flat[start:end] is the agreement's term: its sentence must say
    so ("This Agreement shall remain in effect for ...", "The term of this Agreement is ...")."""
    window = flat[max(0, start - rules["context_chars"]): start]
    ends = list(re.finditer(rules["sentence_end"], window))
    sentence_start = start - len(window) + (ends[-1].end() if ends else 0)
    clause = flat[sentence_start: start].lower()
    heading = flat[max(0, sentence_start - rules["heading_chars"]): sentence_start].lower()
    after = flat[end: end + rules["after_chars"]].lower()
    if any(re.search(p, clause) for p in rules["reject_before"].values()) \
            or any(re.search(p, after) for p in rules["reject_after"].values()):
        return 0.0
    score = 0.0
    for patterns, text in ((rules["subject"], clause), (rules["after"], after), (rules["heading"], heading)):
        for phrase, weight in patterns.items():
            if re.search(phrase, text):
                score = max(score, weight)
    return score


def _term(index: TextIndex, cr: dict) -> Found | None:
    flat = index.text.replace("\n", " ")
    rules = cr["term"]
    best: tuple[float, int, int, str] | None = None
    for start, end, value in sorted(_durations(flat, cr)):
        score = _term_score(flat, start, end, rules)
        if score >= rules["min_score"] and (best is None or score > best[0]):
            best = (score, start, end, value)
    if best is None:
        return None
    score, start, end, value = best
    return _found(index, start, end, value, "pattern", min(score, 1.0))


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
