"""Invoice and receipt fields: labelled values by layout, then patterns and position."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date
from decimal import Decimal
from functools import lru_cache

from rapidfuzz import fuzz

from ecm.document import Document, Word
from extract.amounts import amount_words, format_amount
from extract.dates import date_order, find_dates
from extract.consensus import UNSURE_CONF, Readings, words_of
from extract.found import Found
from extract.layout import (LabelHit, Line, TextIndex, doc_lines, find_label, segment_lines, text_of,
                            words_below, words_right_of)
from extract.ocrfix import fix_confusions
from extract.rules import Rules, tokens
from extract.vendors import VendorBook, name_key

__all__ = ["extract_invoice_fields"]

_ID_NOISE = re.compile(r"^[#:.\-–]+|[:.,;]+$")
_ID_WORDS = {"no", "nr", "num", "number", "#", "n", "no.", "nº", "n°"}


# ---------------------------------------------------------------- value parsers (words -> value)

def _identifier(words: list[Word]) -> tuple[str, list[Word]] | None:
    for i, w in enumerate(words[:4]):
        text = _ID_NOISE.sub("", w.text.strip())
        if not text or text.lower() in _ID_WORDS:
            continue
        if any(c.isdigit() for c in text) and len(text) <= 30 and not find_dates(text, "DMY"):
            if i and w.text[:1] == "_" and re.fullmatch(r"[A-Z0-9]{2,}", words[i - 1].text):
                return words[i - 1].text + w.text, [words[i - 1], w]  # "BLR _WFLD2015...": OCR saw a gap
            return text, [w]
        if not any(c.isdigit() for c in text):
            continue
    return None


def _date(words: list[Word], order: str) -> tuple[str, list[Word]] | None:
    text = ""
    spans = []
    for w in words[:6]:
        if text:
            text += " "
        spans.append((len(text), w))
        text += w.text
    hits = find_dates(text, order)
    if not hits:
        return None
    hit = hits[0]
    used = [w for s, w in spans if s < hit.end and s + len(w.text) > hit.start]
    return hit.value, used


def _amount_pieces(words: list[Word], i: int) -> int:
    """How many words from ``i`` on are one amount OCR split apart: "29." "30", "29" ".30",
    "29.3" "0" or "29" "." "30" (2 or 3), close together on the line; 1 when they are not."""
    def close(a: Word, b: Word) -> bool:
        return b.bbox[0] - a.bbox[2] < 2.5 * max(a.bbox[3] - a.bbox[1], 1)

    texts = [w.text for w in words[i:i + 3]]
    if len(texts) >= 2 and close(words[i], words[i + 1]):
        if (re.fullmatch(r"\D{0,3}\d{1,6}[.,]", texts[0]) and re.fullmatch(r"\d{2}", texts[1])) \
                or (re.fullmatch(r"\D{0,3}\d{1,6}", texts[0]) and re.fullmatch(r"[.,]\d{2}", texts[1])) \
                or (re.fullmatch(r"\D{0,3}\d{1,6}[.,]\d", texts[0]) and re.fullmatch(r"\d", texts[1])):
            return 2
        if len(texts) == 3 and re.fullmatch(r"\D{0,3}\d{1,6}", texts[0]) and texts[1] in (".", ",") \
                and re.fullmatch(r"\d{2}", texts[2]) and close(words[i + 1], words[i + 2]):
            return 3
    return 1


def _joined_amounts(words: list[Word]) -> list[Word]:
    """OCR splits "29.30" into "29." and "30" (or "29" "." "30"): put such pieces back together."""
    out: list[Word] = []
    i = 0
    while i < len(words):
        n = _amount_pieces(words, i)
        parts = words[i:i + n]
        out.append(parts[0] if n == 1 else parts[0].model_copy(update={
            "text": "".join(w.text for w in parts),
            "bbox": (parts[0].bbox[0], min(w.bbox[1] for w in parts), parts[-1].bbox[2], max(w.bbox[3] for w in parts)),
            "conf": min(w.conf for w in parts)}))
        i += n
    return out


def _amount(words: list[Word]) -> tuple[str, list[Word]] | None:
    found = amount_words(_joined_amounts(words), need_decimals=True)
    if found is None:
        return None
    value, used = found
    return format_amount(value), used


# ---------------------------------------------------------------- labelled values

def _glued_value(hit: LabelHit) -> Word | None:
    """What follows the label inside the label's last word ("n°562044387", "No.123"), if the
    label ends inside that word."""
    word = hit.line.words[hit.last_word]
    word_toks = tokens(word.text)
    last = hit.label.tokens[-1] if hit.label.tokens else None
    if last is None or len(word_toks) < 2 or word_toks[-1] == last or last not in word_toks[:-1]:
        return None
    m = re.search(rf"(?i){re.escape(last)}(?:[°º.:#]+\s*|(?=\d))", word.text)  # not "invoice_number_1"
    rest = word.text[m.end():] if m else ""
    return word.model_copy(update={"text": rest}) if rest and any(c.isdigit() for c in rest) else None


_NUMBER_SHAPE = re.compile(r"^(?:#\s?[A-Z]{0,4}[-/]?|INV[-/#.]?)(?=[\w\-/]*\d{3})[A-Z0-9][\w\-/]*$")


def _unlabelled_number(lines: list[Line]) -> Found | None:
    """With no label read: a number that says what it is by itself ("#INV-2025-001", "INV/2023/0008")
    near the top of the first page."""
    for line in [l for l in lines if l.page == 1][:15]:
        for w in line.words:
            if _NUMBER_SHAPE.match(w.text) and not find_dates(w.text, "DMY"):
                return Found(w.text.lstrip("#").strip(), [w], line.page, "pattern", 0.8)
    return None


def _labelled(field: str, lines: list[Line], rules: Rules, parse) -> list[Found]:
    rule = rules.fields[field]
    out: list[Found] = []
    for line in lines:
        hit = find_label(line, rule, rules.min_ratio)
        if hit is None:
            continue
        right = words_right_of(hit, lines)
        glued = _glued_value(hit)
        if glued is not None:
            right = [glued, *right]  # "Facture n°562044387": the value shares the label's word
        parsed = parse(right) if right else None
        if parsed:
            out.append(Found(parsed[0], parsed[1], line.page, "label_right", hit.score))
            continue
        below = words_below(hit, lines, rules.below_max_lines)
        parsed = parse(below) if below else None
        if parsed:
            out.append(Found(parsed[0], parsed[1], line.page, "label_below", hit.score))
    return out


def _best(cands: list[Found], prefer_larger_amount: bool = False) -> Found | None:
    if not cands:
        return None
    method_rank = {"label_right": 1.0, "label_below": 0.97}

    def key(c: Found):
        # The label's weight decides (grand total beats total); between equal labels a grand
        # total is never smaller than a subtotal or a tax summary line.
        amount = float(c.value) if prefer_larger_amount else 0.0
        return (round(c.score * method_rank.get(c.method, 0.9), 3), amount, -cands.index(c))

    return max(cands, key=key)


_FIVE_CENTS = Decimal("0.05")


def _rounded_total(best: Found, cands: list[Found], lines: list[Line], rules: Rules) -> Found:
    """Receipts that round the bill to 5 cents print the total before and after rounding; the
    amount paid is the rounded one."""
    value = Decimal(best.value)
    if value % _FIVE_CENTS == 0:
        return best
    near = [c for c in cands if Decimal(c.value) % _FIVE_CENTS == 0 and abs(Decimal(c.value) - value) <= _FIVE_CENTS]
    if near:
        c = _best(near)
        return Found(c.value, c.words, c.page, c.method, c.score)
    if any(find_label(l, rules.fields["rounding"], rules.min_ratio) for l in lines):
        rounded = (value / _FIVE_CENTS).quantize(Decimal("1"), rounding="ROUND_HALF_UP") * _FIVE_CENTS
        return Found(format_amount(rounded), best.words, best.page, best.method, best.score * 0.95)
    return best


WEAK_TOTAL_LABEL = 0.6  # label score below which cash - change outweighs a labelled total


def _total(lines: list[Line], rules: Rules, is_receipt: bool = False) -> Found | None:
    """The labelled grand total, cross-checked with what was paid: cash - change = total.

    Agreement raises the score (the confidence means more); a labelled candidate equal to
    cash - change wins over a larger-labelled one; with no readable total, cash - change stands in.
    """
    cands = _labelled("total_amount", lines, rules, _amount)
    best = _best(cands, prefer_larger_amount=True)
    if best is not None and is_receipt:
        best = _rounded_total(best, cands, lines, rules)
    cash = _best(_labelled("cash_tendered", lines, rules, _amount))
    change = _best(_labelled("change_given", lines, rules, _amount))
    if cash is None or change is None:
        return best
    implied = Decimal(cash.value) - Decimal(change.value)
    if implied <= 0:
        return best
    agreeing = [c for c in cands if Decimal(c.value) == implied]
    if agreeing:
        top = _best(agreeing)
        return Found(top.value, top.words, top.page, top.method, min(1.0, top.score * 1.08 + 0.05))
    printed = _printed_amount(implied, lines, {tuple(w.bbox) for w in cash.words + change.words})
    if printed is not None:
        # What was paid is printed again on a line whose label OCR lost ("(3A S4los (Inclusive
        # of GST) : 599.45"): two readings agree where the labelled candidate stands alone.
        line, word = printed
        return Found(format_amount(implied), [word], line.page, "pattern", 0.9)
    if best is None or best.score < WEAK_TOTAL_LABEL:
        # No total, or only a weak label ("Amount"): what was paid minus the change stands in.
        return Found(format_amount(implied), cash.words + change.words, cash.page, "pattern", 0.75)
    return Found(best.value, best.words, best.page, best.method, best.score * 0.85)  # disagreement


def _printed_amount(amount: Decimal, lines: list[Line], skip: set[tuple]) -> tuple[Line, Word] | None:
    """A word reading exactly ``amount``, other than those at the boxes in ``skip``."""
    for line in lines:
        for w in _joined_amounts(line.words):
            if tuple(w.bbox) in skip:
                continue
            parsed = _amount([w])
            if parsed and Decimal(parsed[0]) == amount:
                return line, w
    return None


_ROUNDING = Decimal("0.02")  # totals rounded to 5 cents differ from subtotal + tax by up to 2 cents


def _reconciled_tax(cands: list[Found], total: Found, lines: list[Line], rules: Rules) -> Found | None:
    """The tax that makes subtotal + tax = total (within a rounding), when a subtotal is printed;
    an "amount" equal to the subtotal is never the tax (a misread row)."""
    subs = {Decimal(c.value) for c in _labelled("subtotal", lines, rules, _amount)}
    if not subs or not cands:
        return None
    t = Decimal(total.value)
    agreeing = [c for c in cands if any(abs(s + Decimal(c.value) - t) <= _ROUNDING for s in subs)]
    if agreeing:
        best = _best(agreeing)
        return Found(best.value, best.words, best.page, best.method, min(1.0, best.score * 1.08 + 0.05))
    plausible = [c for c in cands if Decimal(c.value) not in subs]
    best = _best(plausible)
    if best is None:
        return None
    return Found(best.value, best.words, best.page, best.method, best.score * 0.8)  # does not add up


# ---------------------------------------------------------------- vendor name and address

def _has_phrase(line_toks: list[str], phrases: list[str]) -> bool:
    joined = " " + " ".join(line_toks) + " "
    return any(f" {' '.join(tokens(p))} " in joined for p in phrases if tokens(p))


def _is_legal_name(line: Line, rules: Rules) -> bool:
    """The line carries a legal-entity suffix (``legal_suffixes``), read after the suffix OCR
    fixes ("99 SPEED MART 5/B (519537-X)" is an S/B)."""
    if _has_phrase(line.toks, rules.vendor["legal_suffixes"]):
        return True
    return _has_phrase(tokens(_suffix_fixed(_REG_TAIL.sub("", line.text), rules)), rules.vendor["legal_suffixes"])


def _suffix_fixed(text: str, rules: Rules) -> str:
    """``text`` with the company-suffix OCR fixes of labels.toml applied ("SON BHD" -> "SDN BHD")."""
    for pattern, repl in rules.vendor.get("ocr_fixes", {}).items():
        text = re.sub(pattern, repl, text, flags=re.I)
    return text


def _customer_lines(lines: list[Line], rules: Rules) -> set[int]:
    """Lines in a "Bill to"/"Ship to" block: organisations there are the buyer's."""
    out: set[int] = set()
    labels = [tokens(l) for l in rules.vendor["customer_labels"]]
    for line in lines:
        toks = line.toks
        for lab in labels:
            if toks[:len(lab)] == lab:
                x0, y0, x1, y1 = line.bbox
                out.add(line.order)
                for other in lines[line.order + 1:line.order + 8]:
                    if other.page != line.page:
                        break
                    ox0, oy0, ox1, oy1 = other.bbox
                    if oy0 - y1 < 6 * line.height and ox0 < x1 + 0.05 * line.page_width and ox1 > x0 - 0.05 * line.page_width:
                        out.add(other.order)
                break
    return out


_REG_LABEL = re.compile(r"co[.\-]?\s*reg|\bco\.?\s*no\b|company\s*(no|reg)|reg\.?\s*no|gst\s*(id|no|reg)|\broc\b", re.I)
_KEY_VALUE = re.compile(r"^\s*[A-Za-z][A-Za-z .#/]{1,24}?\s*:\s*\S")
_POSTCODE = re.compile(r"(?<![\w\-/])\d{4,6}(?![\w\-/])")


def _is_name_line(line: Line, rules: Rules) -> bool:
    text = _REG_TAIL.sub("", line.text)  # "AEON CO. (M) BHD (126926-H)": judge the name, not the number
    if _POSTCODE.search(text):
        return False  # "46000 PETALING JAYA": a postcode, so an address line
    if _KEY_VALUE.match(text) and not _OWNED_BY.match(text):
        return False  # "Guest Name: Sanjay", "Salesperson : Ali": a labelled field
    if _REG_LABEL.search(text):
        return False  # "Co-REG:", "GST ID No": a registration number's label
    if text.rstrip().endswith(":") and len(line.words) <= 2:
        return False  # "Services:": a heading or label whose value follows
    letters = sum(c.isalpha() for c in text)
    legal = _is_legal_name(line, rules)
    # "HR. O.1.¥. (4) SDN BHD": a legal name's initials and dots leave fewer letters.
    if letters < 3 or letters < (0.45 if legal else 0.6) * len(text.replace(" ", "")):
        return False
    if not re.search(r"[A-Za-z]{2,}", text):
        return False
    norm = " ".join(line.toks)
    if norm in _phrases(rules.vendor["not_names"]) or norm in _label_phrases(rules):
        return False  # a title or a field's label ("Invoice Date")
    if len(norm) >= 6 and any(fuzz.ratio(norm, n) >= 82 for n in _phrases(rules.vendor["not_names"]) if len(n) >= 6):
        return False  # "TAX UWOICE": an OCR-mangled document title
    joined = f" {norm} "
    if any(f" {p} " in joined for p in _phrases(rules.vendor["skip_phrases"])):
        return False
    if "@" in text or "www" in text.lower() or "http" in text.lower():
        return False
    if line.toks and line.toks[0] in _phrases(rules.vendor["address_starts"]) and any(c.isdigit() for c in text):
        return False  # "NO 12 JALAN ...": the address, not the name
    places = _phrases(rules.vendor["address_words"])
    if not legal and (set(line.toks[:2]) & places or (set(line.toks) & places and any(c.isdigit() for c in text))):
        return False  # "KAWASAN PERINDUSTRIAN BALAKONG", "TAMAN BERKELEY"; not "DOMINO'S PIZZA TAMAN UNIVERSITI"
    return True


def _label_phrases(rules: Rules) -> frozenset[str]:
    return _phrases(l.text for f in rules.fields.values() for l in f.labels)


def _phrases(items) -> frozenset[str]:
    return _phrase_cache(tuple(items))


@lru_cache(maxsize=32)
def _phrase_cache(items: tuple[str, ...]) -> frozenset[str]:
    return frozenset(" ".join(tokens(i)) for i in items if tokens(i))


def _legible(line: Line, min_conf: float = 0.5) -> bool:
    return sum(w.conf for w in line.words) / len(line.words) >= min_conf


def _vendor_by_book(top: list[Line], vendors: VendorBook | None) -> tuple[Found, Line] | None:
    """A known vendor (accepted before) read in one of the top lines, or two lines joined."""
    if not vendors:
        return None
    best: tuple[float, Found, Line] | None = None
    for i, line in enumerate(top[:12]):
        readings = [([line], line.text)]
        if i + 1 < len(top):
            readings.append(([line, top[i + 1]], f"{line.text} {top[i + 1].text}"))
        for used, text in readings:
            match = vendors.match_name(_clean_name(text))
            if match and (best is None or match.score > best[0] + 0.02):
                words = [w for l in used for w in l.words]
                best = (match.score, Found(match.name, words, line.page, "vendorbook", match.score,
                                                read_as=_clean_name(text)), used[-1])
    return (best[1], best[2]) if best else None


def _vendor_name(doc: Document, lines: list[Line], rules: Rules, is_receipt: bool,
                 vendors: VendorBook | None = None) -> tuple[Found | None, Line | None]:
    first_page = [l for l in lines if l.page == 1]
    customer = _customer_lines(first_page, rules)
    top = [l for l in first_page if l.order not in customer][:15 if is_receipt else 25]

    # 0. A vendor accepted before, read (perhaps misspelled by OCR) near the top.
    known = _vendor_by_book(top, vendors)
    if known:
        return known

    # 1. An explicit label at the start of a line ("Vendor:", "Sold by:", "From:"); not on
    #    receipts, where "Sold by:" names the sales clerk.
    rule = rules.fields["vendor_name"]
    for line in ([] if is_receipt else first_page[:40]):
        hit = find_label(line, rule, rules.min_ratio)
        if hit is None or hit.first_word > 0:
            continue
        after = line.words[hit.last_word].text
        alone = hit.last_word == len(line.words) - 1
        if not (after.endswith(":") or (alone and len(line.words) <= 3)):
            continue  # "Your Company Inc.": a word of the name, not a label
        # The value is the rest of the label's own segment (another column is another block).
        value = line.words[hit.last_word + 1:]
        method = "label_right"
        if not value:
            value, method = words_below(hit, lines, rules.below_max_lines), "label_below"
        text = _clean_name(text_of(value))
        if value and sum(c.isalpha() for c in text) >= 3 and not find_dates(text, "DMY"):
            host = next((l for l in lines if value[0] in l.words), hit.line)
            return Found(text, value, hit.line.page, method, hit.score * 0.9), host

    names = [l for l in top if _is_name_line(l, rules) and _legible(l)]
    suffixes = rules.vendor["company_suffixes"]

    # 2. Receipts print the shop's name first: a legal name (SDN BHD, ENTERPRISE...) among the
    #    first few name-like lines wins, else the first of them.
    if is_receipt:
        header = _header(names, top, rules)
        for rank, line in enumerate(header[:3]):
            if _is_legal_name(line, rules):
                words, text = list(line.words), line.text
                prev = header[rank - 1] if rank else None
                rest = [t for t in line.toks if t not in _SUFFIX_TOKENS]
                if prev is not None and len(rest) <= 1 and prev.order == line.order - 1 \
                        and not _is_legal_name(prev, rules):
                    words, text = list(prev.words) + words, f"{prev.text} {text}"  # "POPULAR BOOK" / "CO. (M) SDN BHD"
                return Found(_clean_name(text, rules), words, line.page, "pattern", 1.0 - 0.03 * rank), line
        if names:
            line = names[0]
            return Found(_clean_name(line.text, rules), line.words, line.page, "position", 0.9), line
        return None, None

    # 3. Invoices: a name line the sender's own web or mail address spells ("Azure Interior" and
    #    www.azure-interior.com, "Jaxson Van Doorn" and jaxson.vandoorn@gmail.com).
    spelled = _web_names(lines)
    for rank, line in enumerate(names):
        key = "".join(c for c in _REG_TAIL.sub("", line.text).lower() if c.isalnum())
        if len(key) >= 4 and key in spelled:
            return Found(_clean_name(line.text, rules), line.words, line.page, "pattern", 1.0 - 0.02 * rank), line

    # 4. Invoices: the top-most line that reads like an organisation (suffix: Inc., GmbH, Ltd...).
    for rank, line in enumerate(names):
        if _has_phrase(line.toks, suffixes):
            return Found(_clean_name(line.text, rules), line.words, line.page, "pattern", 1.0 - 0.02 * rank), line

    # 5. A named organisation near the top (spaCy), for invoices with plain vendor names.
    if top:
        from extract.nlp import entities

        text = "\n".join(l.text for l in top)
        starts = []
        pos = 0
        for l in top:
            starts.append(pos)
            pos += len(l.text) + 1
        for ent, _label, s, _e in entities(text, ("ORG",)):
            idx = max(i for i, st in enumerate(starts) if st <= s)
            line = top[idx]
            if _is_name_line(line, rules) and len(ent) >= 3:
                return Found(_clean_name(line.text, rules), line.words, line.page, "ner", 1.0), line

    # 6. Position: the first name-like line.
    for rank, line in enumerate(names[:4]):
        return Found(_clean_name(line.text, rules), line.words, line.page, "position", 1.0 - 0.05 * rank), line
    return None, None


def _name_continued(name: Found, line: Line, lines: list[Line], rules: Rules) -> tuple[Found, Line]:
    """A name printed over two lines, the second opening with "&" or "and" ("CORNER HARDWARE" /
    "& SUPPLY"): both lines are the name, and the address starts after the second."""
    nxt = next((l for l in lines[line.order + 1:line.order + 2] if l.page == line.page), None)
    if nxt is None or not re.match(r"(?i)^(?:&|and\b)", nxt.text) or len(nxt.words) > 5 \
            or any(c.isdigit() for c in nxt.text):
        return name, line
    text = _clean_name(f"{name.value} {nxt.text}", rules)
    return Found(text, name.words + nxt.words, name.page, name.method, name.score), nxt


@lru_cache(maxsize=8)
def _phrase_tokens(phrases: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(tokens(p)) for p in phrases if tokens(p))


def _ends_block(toks: list[str], text: str, rules: Rules) -> bool:
    """A line that ends, or interrupts, the vendor's header block: a document title, a contact,
    tax or table-heading line ("Tel", "GST No", OCR's "TFL"), an e-mail address, a date."""
    stops = _phrase_tokens(tuple(rules.vendor["address_stops"]))
    return (" ".join(toks) in _phrases(rules.vendor["not_names"])
            or any(tuple(toks[:len(s)]) == s for s in stops)
            or _EMAIL.search(text) is not None or bool(find_dates(text, "DMY"))
            or (len(toks[0]) >= 3 and any(fuzz.ratio(toks[0], s[0]) >= 80
                                          for s in stops if len(s) == 1 and len(s[0]) >= 3)))


def _header(names: list[Line], top: list[Line], rules: Rules) -> list[Line]:
    """The name-like lines above a receipt's first title, contact or date line: the shop's
    own header ("TAX INVOICE" or "Tel:" ends it; a customer or owner named below is not it)."""
    end = None
    for line in top:
        if names and line.order <= names[0].order:
            continue
        if line.toks and _ends_block(line.toks, line.text, rules):
            end = line.order
            break
    return [l for l in names if end is None or l.order < end] or names[:1]


_WEB = re.compile(r"(?i)(?:([\w.+-]+)@|(?:https?://)?(?:www\.))?(?:[a-z0-9-]+\.)*([a-z0-9-]+)\.[a-z]{2,6}\b")
_MAIL_HOSTS = {"gmail", "googlemail", "yahoo", "hotmail", "outlook", "live", "icloud", "aol", "gmx", "web",
               "protonmail", "mail", "example"}


def _web_names(lines: list[Line]) -> set[str]:
    """What web and mail addresses in the document spell, letters and digits only: a domain's
    name ("azure-interior.com" -> "azureinterior"), and the person of a personal mailbox
    ("jaxson.vandoorn@gmail.com" -> "jaxsonvandoorn")."""
    out: set[str] = set()
    for line in lines:
        text = re.sub(r"(\w\.)\s+(?=[\w.+-]+@)", r"\1", line.text)  # "jaxson. vandoorn@": OCR's gap
        for m in _WEB.finditer(text):
            local, name = m.group(1), m.group(2)
            if not (local or "www" in m.group(0).lower() or "@" in text):
                continue  # "Co. Ltd.": not an address
            if name.lower() not in _MAIL_HOSTS:
                out.add(re.sub(r"[^a-z0-9]", "", name.lower()))
            elif local:
                out.add(re.sub(r"[^a-z0-9]", "", local.lower()))
    return out


_SUFFIX_TOKENS = {"co", "m", "sdn", "bhd", "berhad", "s", "b", "inc", "ltd", "llc", "corp", "plc", "gmbh", "pte"}
_OWNED_BY = re.compile(r"(?i)^\s*(?:dimiliki(?:\s+oleh)?|owned\s+by|operated\s+by)\s*:?\s*")
_REG_TAIL = re.compile(r"[\s,]*(?:[\[({]\s*(?:co\.?\s*(?:no|reg)\.?\s*:?\s*)?(?=[0-9OIl]*\d)[0-9OIl][0-9OoSIl ]{3,}\s*-?\s*[A-Za-z¥]?\s*[\])}]?[\s,.;|]*$|[A-Z]{0,3}[0-9]{5,}\s?-\s?[A-Z¥])[\s,.;|]*$")


def _clean_name(text: str, rules: Rules | None = None) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    text = _OWNED_BY.sub("", text)  # "Dimiliki: BANH MI CAFE SDN BHD": the owning company
    text = _REG_TAIL.sub("", text)  # "(139386 X)", "(417940-M)": the company registration number
    keep_dot = re.search(r"(?i)\b(?:inc|ltd|co|corp|llc|bhd|plc|pty|pte|b\.v|n\.v|s\.a)\.$", text) is not None
    text = fix_confusions(text.strip(" :;,.-|*'\"‘’“”©®€¢").strip()) + ("." if keep_dot else "")
    if rules is not None:
        text = _trim_name(_suffix_fixed(text, rules), rules)
    return text


def _trim_name(text: str, rules: Rules) -> str:
    """Drop what shares the name's line but is not the name: a title or label after it
    ("Amazon Web Services Invoice", "Your Company Name Bill To") and an address after a
    dash ("QualityHosting AG - Uferweg 40-42 - D-63571 Gelnhausen")."""
    parts = re.split(r"\s+[-|·•]\s+", text)
    if len(parts) > 1 and any(_POSTCODE.search(p) or re.search(r"\d", p) for p in parts[1:]):
        text = parts[0]
    words = text.split()
    ends = _phrases(rules.vendor["not_names"])
    for n in (3, 2, 1):
        if len(words) > n and " ".join(tokens(" ".join(words[-n:]))) in ends:
            return " ".join(words[:-n]).rstrip(" :;,-|")
    return text


# A registration line: its label (_REG_LABEL), a bare number ("(123456-X)"), or an owner.
_REG_LINE = re.compile(_REG_LABEL.pattern + r"|conpany|\(\s*\d{4,}[\s\-]*[a-z]?\s*\)|^[\[(]?[a-z]{0,3}\d{5,}\s?-?\s?[a-z]\)?$"
                       r"|^\(?\d[\d ]{4,}-?[a-z]\)?$|dimiliki|owned\s+by|owner\s+by|\bs/?b\b.*\(\d", re.I)
_PRICE = re.compile(r"(?<![\d.,])\d{1,6}[.,]\d\d(?![\d.,/])")
# A registration number opening the address's first line: "(CO.REG : 860671-D) LOT 1851-A ..."
_REG_HEAD = re.compile(r"^\W*(?:(?:co\.?\s*r\w{2}|no)\.?\s*:?\s*)?(?=[0-9A-Z]*\d)[0-9A-Z]{5,}\s*-\s*[A-Z]\b\s*[)\]}]?[\s,.;|]*", re.I)
_ADDRESS_LABEL = re.compile(r"(?i)^\s*(?:address|addr|adresse|anschrift)\s*[:.]?\s*")
_EMAIL = re.compile(r"\w@\w|e-?mail", re.I)
_PHONE = re.compile(r"(\+?\d[\d\s\-()]{7,}\d)")


def _address_like(line: Line, rules: Rules) -> bool:
    """A line that starts an address: "NO. 12 JALAN ...", "12 Main Street", "LOT 3, ...", "A-G-06, ...",
    a postcode."""
    toks = line.toks
    starts = _phrases(rules.vendor["address_starts"])
    return bool(toks) and (toks[0] in starts or any(c.isdigit() for c in line.text.split()[0])
                           or bool(set(toks) & _phrases(rules.vendor["address_words"]))
                           or _POSTCODE.search(line.text) is not None)


def _ends_with_country(line: Line, rules: Rules) -> bool:
    toks = line.toks
    countries = _phrase_tokens(tuple(rules.vendor["address_ends"]))
    return any(len(toks) > len(c) and tuple(toks[-len(c):]) == c for c in countries)


def _vendor_address(vendor_line: Line | None, lines: list[Line], rules: Rules,
                    vendor_name: str | None = None, vendors: VendorBook | None = None,
                    is_receipt: bool = True) -> Found | None:
    if vendor_line is None:
        return None
    vx0, vy0, vx1, vy1 = vendor_line.bbox
    width = vendor_line.page_width
    picked: list[Line] = []
    skipped = 0
    last = vendor_line
    repeated = name_key(vendor_name) if vendor_name else ""
    repeated = repeated if len(repeated) >= 4 else None  # the name printed again, perhaps with its branch
    for line in lines[vendor_line.order + 1:vendor_line.order + 12]:
        if line.page != vendor_line.page:
            break
        x0, y0, x1, y1 = line.bbox
        if y0 - last.bbox[3] > 2.5 * max(last.height, vendor_line.height):
            break  # a gap: the address block has ended
        if x1 < vx0 - 0.15 * width or x0 > vx1 + 0.15 * width:
            continue  # another column
        if not is_receipt and (x0 > vx0 + 0.25 * width or x1 <= vx0):
            continue  # invoices: a block further right or left ("Invoice No:" beside the address)
        toks = line.toks
        if not toks:
            continue
        if _REG_LINE.search(line.text):
            rest = _REG_TAIL.sub("", _REG_HEAD.sub("", line.text)).strip()
            if not re.search(r"[A-Za-z]{3,}.*\d|\d.*[A-Za-z]{3,}", rest):
                if picked:
                    break
                last = line
                continue  # company registration number / "owned by" between name and address
            toks = tokens(rest)  # "(CO REG 123456-X) LOT 5, JALAN ...": the address after the number
        if _ends_block(toks, line.text, rules):
            if picked or skipped >= 4:
                break
            skipped += 1  # a date, tax number or title between the name and the address
            last = line
            continue
        if (skipped or is_receipt) and not picked and not _address_like(line, rules):
            skipped += 1
            last = line
            if skipped > 4:
                break
            continue
        if not picked and repeated and name_key(line.text).startswith(repeated):
            last = line
            continue  # the name again with the branch's ("DOMINO'S PIZZA TAMAN UNIVERSITI"): not the address
        if picked and _PRICE.search(line.text):
            break  # "1.00 X 21.32": the items have begun
        if _PHONE.search(line.text) and not re.search(r"[A-Za-z]{3,}", line.text):
            if picked:
                break
            continue
        if not _legible(line, 0.35):
            continue
        picked.append(line)
        last = line
        if len(picked) >= 6 or _ends_with_country(line, rules):
            break
    if not picked or not any(c.isdigit() for l in picked for c in l.text):
        return None  # an address has a number or a postcode somewhere
    # "| 43300 SERI KEMBANGAN": the paper's edge read as a bar is no part of the address.
    text = " ".join(_REG_TAIL.sub("", _REG_HEAD.sub("", l.text)).strip(" |") for l in picked)
    text = fix_confusions(_ADDRESS_LABEL.sub("", re.sub(r"\s+", " ", text)).strip(" ,.|"))
    words = [w for l in picked for w in l.words]
    if vendors and vendor_name:
        known = vendors.match_address(vendor_name, text)
        if known:
            return Found(known.name, words, vendor_line.page, "vendorbook", known.score, read_as=text)
    return Found(text, words, vendor_line.page, "position", 1.0)


# ---------------------------------------------------------------- currency

def _currency(lines: list[Line], rules: Rules) -> Found | None:
    votes: Counter[str] = Counter()
    where: dict[str, tuple[Line, Word]] = {}
    sure: set[str] = set()  # currencies printed as a code or an unambiguous symbol
    codes = set(rules.currency_codes)
    symbols = sorted(rules.currency_symbols.items(), key=lambda kv: -len(kv[0]))
    printed_usd = False
    for line in lines:
        for w in line.words:
            raw = w.text.strip("():.,;")
            printed_usd = printed_usd or raw.upper() in ("USD", "US$")
            if raw.upper() in codes and (raw.isupper() or len(raw) == 3):
                votes[raw.upper()] += 2  # a printed code is the strongest evidence
                where.setdefault(raw.upper(), (line, w))
                sure.add(raw.upper())
                continue
            low = w.text.lower()
            for sym, code in symbols:
                alpha = sym.strip(".").isalpha()
                if alpha:
                    hit = re.fullmatch(rf"\(?{re.escape(sym)}\)?[:]?\s*[\d.,]*", low) is not None
                else:
                    hit = sym in low
                if hit:
                    votes[code] += 1
                    where.setdefault(code, (line, w))
                    if sym not in rules.currency_ambiguous:
                        sure.add(code)
                    break
    if not votes:
        return None
    code, n = votes.most_common(1)[0]
    line, word = where[code]
    if code == "USD" and not printed_usd:
        local = _dollar_place(lines, rules)
        if local:
            return Found(local, [word], line.page, "pattern", 0.75)  # "$8.20" on a Malaysian till
    # "$" alone is the US dollar's only by default (Australia, Canada, Singapore print it too).
    return Found(code, [word], line.page, "pattern", min(1.0, 0.8 + 0.1 * n) if code in sure else 0.7)


def _dollar_place(lines: list[Line], rules: Rules) -> str | None:
    """The currency of the place the document names ("SDN BHD", "Singapore"), if any."""
    text = " " + " ".join(" ".join(l.toks) for l in lines) + " "
    for code, phrases in rules.dollar_places.items():
        if any(f" {' '.join(tokens(p))} " in text for p in phrases if tokens(p)):
            return code
    return None


def _agreed(name: str, found: Found, readings: Readings) -> Found:
    """The archive's majority reading of this vendor's name or address (``extract.consensus``)
    in place of this document's own reading, when enough readings in the archive are alike;
    else the reading with the words OCR was unsure of spelled as the archive spells them."""
    text = str(found.value)
    agreed = readings.consensus(name, text)
    if agreed is not None:
        return Found(agreed.value, found.words, found.page, "consensus", agreed.agreement, read_as=text)
    unsure = {word for w in found.words if w.conf < UNSURE_CONF for word in words_of(w.text)}
    spelled = readings.spelled(name, text, unsure)
    if spelled == text:
        return found
    return Found(spelled, found.words, found.page, found.method, found.score, read_as=text)


# ---------------------------------------------------------------- all fields

def extract_invoice_fields(doc: Document, rules: Rules, is_receipt: bool,
                           vendors: VendorBook | None = None,
                           readings: Readings | None = None) -> dict[str, Found]:
    lines = doc_lines(doc)
    if not lines:
        return {}
    text = TextIndex(lines).text
    order = date_order(text, rules)
    wanted = rules.doc_type_fields["receipt" if is_receipt else "invoice"]
    out: dict[str, Found] = {}

    latest = date.today().year + 1

    def plausible(value: str) -> str | None:
        """``value`` when its year can be a document's, else its year read again with the
        decade's 7 as the 1 Tesseract took it for ("2078" -> "2018"); None when neither."""
        if 1990 <= int(value[:4]) <= latest:
            return value
        if value[2] == "7":
            try:
                slip = date.fromisoformat(f"{value[:2]}1{value[3:]}")
            except ValueError:
                return None
            return slip.isoformat() if 1990 <= slip.year <= latest else None
        return None

    def date_parse(ws: list[Word]):
        found = _date(ws, order)
        value = plausible(found[0]) if found else None
        return (value, found[1]) if value else None

    if "invoice_number" in wanted:
        f = _best(_labelled("invoice_number", lines, rules, _identifier)) or _unlabelled_number(lines)
        if f:
            out["invoice_number"] = f
    if "po_number" in wanted:
        f = _best(_labelled("po_number", lines, rules, _identifier))
        if f:
            out["po_number"] = f
    if "invoice_date" in wanted:
        f = _best(_labelled("invoice_date", lines, rules, date_parse))
        if f is None:
            # No labelled date: the first date of the document (receipts print one date).
            index = TextIndex(lines)
            for hit in find_dates(index.text, order):
                value = plausible(hit.value)
                if value is None:
                    continue
                page, words = index.words_in(hit.start, hit.end)
                if words:
                    score = (0.8 if is_receipt else 0.6) * (1.0 if value == hit.value else 0.8)
                    f = Found(value, words, page, "pattern", score)
                    break
        if f:
            out["invoice_date"] = f
    if "due_date" in wanted:
        f = _best(_labelled("due_date", lines, rules, date_parse))
        if f:
            out["due_date"] = f
    if "total_amount" in wanted:
        f = _total(lines, rules, is_receipt)
        if f:
            out["total_amount"] = f
    if "tax_amount" in wanted:
        cands = [c for c in _labelled("tax_amount", lines, rules, _amount)]
        total = out.get("total_amount")
        if total:
            cands = [c for c in cands if float(c.value) < float(total.value)]
        cands = [c for c in cands if float(c.value) > 0]
        f = _reconciled_tax(cands, total, lines, rules) if total else None
        f = f or _best(cands)
        if f:
            out["tax_amount"] = f
    if "vendor_name" in wanted or "vendor_address" in wanted:
        # Invoices set columns apart ("Company ABC      TO: John Doe"); receipts are one column.
        segments = lines if is_receipt else segment_lines(lines)
        name, line = _vendor_name(doc, segments, rules, is_receipt, vendors)
        if name is not None and line is not None and name.method != "vendorbook":
            name, line = _name_continued(name, line, segments, rules)
        if name and "vendor_name" in wanted:
            out["vendor_name"] = name
        if "vendor_address" in wanted:
            addr = _vendor_address(line, segments, rules, name.value if name else None, vendors, is_receipt)
            if addr is None and name is not None and not is_receipt:
                # A logo-style name on its own, the address under a second mention ("From ACME Ltd").
                key = name_key(str(name.value))
                for other in segments:
                    if other is not line and other.page == 1 and len(key) >= 4 and key in name_key(other.text):
                        addr = _vendor_address(other, segments, rules, name.value, vendors, is_receipt)
                        if addr:
                            break
            if addr:
                out["vendor_address"] = addr
        if readings:
            for key in ("vendor_name", "vendor_address"):
                if key in out and out[key].method != "vendorbook":
                    out[key] = _agreed(key, out[key], readings)
    if "currency" in wanted:
        f = _currency(lines, rules)
        if f:
            out["currency"] = f
    return out


