"""Invoice and receipt fields: labelled values by layout, then patterns and position."""

from __future__ import annotations

import re
from collections import Counter

from ecm.document import Document, Word
from extract.amounts import amount_words, format_amount
from extract.dates import date_order, find_dates
from extract.found import Found
from extract.layout import (Line, TextIndex, doc_lines, find_label, text_of,
                            words_below, words_right_of)
from extract.rules import Rules, tokens

__all__ = ["extract_invoice_fields"]

_ID_NOISE = re.compile(r"^[#:.\-–]+|[:.,;]+$")
_ID_WORDS = {"no", "nr", "num", "number", "#", "n", "no.", "nº", "n°"}


# ---------------------------------------------------------------- value parsers (words -> value)

def _identifier(words: list[Word]) -> tuple[str, list[Word]] | None:
    for w in words[:4]:
        text = _ID_NOISE.sub("", w.text.strip())
        if not text or text.lower() in _ID_WORDS:
            continue
        if any(c.isdigit() for c in text) and len(text) <= 30 and not find_dates(text, "DMY"):
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


def _amount(words: list[Word]) -> tuple[str, list[Word]] | None:
    found = amount_words(words, need_decimals=True)
    if found is None:
        return None
    value, used = found
    return format_amount(value), used


# ---------------------------------------------------------------- labelled values

def _labelled(field: str, lines: list[Line], rules: Rules, parse) -> list[Found]:
    rule = rules.fields[field]
    out: list[Found] = []
    for line in lines:
        hit = find_label(line, rule, rules.min_ratio)
        if hit is None:
            continue
        right = words_right_of(hit, lines)
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


# ---------------------------------------------------------------- vendor name and address

def _has_phrase(line_toks: list[str], phrases: list[str]) -> bool:
    joined = " " + " ".join(line_toks) + " "
    return any(f" {' '.join(tokens(p))} " in joined for p in phrases if tokens(p))


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


def _is_name_line(line: Line, rules: Rules) -> bool:
    text = line.text
    letters = sum(c.isalpha() for c in text)
    if letters < 3 or letters < 0.5 * len(text.replace(" ", "")):
        return False
    norm = " ".join(line.toks)
    if norm in {" ".join(tokens(n)) for n in rules.vendor["not_names"]}:
        return False
    if "@" in text or "www" in text.lower() or "http" in text.lower():
        return False
    return True


def _vendor_name(doc: Document, lines: list[Line], rules: Rules, is_receipt: bool) -> tuple[Found | None, Line | None]:
    first_page = [l for l in lines if l.page == 1]
    customer = _customer_lines(first_page, rules)
    top = [l for l in first_page if l.order not in customer][:15 if is_receipt else 25]
    suffixes = rules.vendor["company_suffixes"]

    # 1. An explicit label ("Vendor:", "Sold by", "From:").
    rule = rules.fields["vendor_name"]
    for line in first_page[:40]:
        hit = find_label(line, rule, rules.min_ratio)
        if hit is None or hit.first_word > 1:
            continue
        value = [w for w in words_right_of(hit, lines) if w.bbox[0] < hit.line.page_width]
        method = "label_right"
        if not value:
            value, method = words_below(hit, lines, rules.below_max_lines), "label_below"
        text = text_of(value).strip(" :")
        if value and sum(c.isalpha() for c in text) >= 3 and not find_dates(text, "DMY"):
            host = next((l for l in lines if value[0] in l.words), hit.line)
            return Found(text, value, hit.line.page, method, hit.score * 0.9), host

    # 2. The top-most line that reads like an organisation (suffix: SDN BHD, Inc., GmbH...).
    for rank, line in enumerate(top):
        if _is_name_line(line, rules) and _has_phrase(line.toks, suffixes):
            return Found(_clean_name(line.text), line.words, line.page, "pattern", 1.0 - 0.02 * rank), line

    # 3. A named organisation near the top (spaCy), for invoices with plain vendor names.
    if not is_receipt and top:
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
                return Found(_clean_name(line.text), line.words, line.page, "ner", 1.0), line

    # 4. Position: receipts print the shop name first, usually in capitals.
    for rank, line in enumerate(top[:8]):
        if not _is_name_line(line, rules) or len(line.words) < (2 if is_receipt else 1):
            continue
        letters = [c for c in line.text if c.isalpha()]
        upper = sum(c.isupper() for c in letters) / max(len(letters), 1)
        if is_receipt and upper < 0.7:
            continue
        if sum(w.conf for w in line.words) / len(line.words) < 0.5:
            continue
        return Found(_clean_name(line.text), line.words, line.page, "position", 1.0 - 0.05 * rank), line
    return None, None


def _clean_name(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip(" :;,.-|*'\"").strip()


_REG_LINE = re.compile(r"(co\.?\s*reg|company\s*(no|reg)|roc\b|\(\s*\d{4,}[\s\-]*[a-z]?\s*\)|^\(?\d{5,}-?[a-z]\)?$|reg\.?\s*no|gst\s*(id|no|reg))", re.I)
_PHONE = re.compile(r"(\+?\d[\d\s\-()]{7,}\d)")


def _vendor_address(vendor_line: Line | None, lines: list[Line], rules: Rules) -> Found | None:
    if vendor_line is None:
        return None
    stops = [tokens(s) for s in rules.vendor["address_stops"]]
    vx0, vy0, vx1, vy1 = vendor_line.bbox
    width = vendor_line.page_width
    picked: list[Line] = []
    last = vendor_line
    for line in lines[vendor_line.order + 1:vendor_line.order + 10]:
        if line.page != vendor_line.page:
            break
        x0, y0, x1, y1 = line.bbox
        if y0 - last.bbox[3] > 2.5 * max(last.height, vendor_line.height):
            break  # a gap: the address block has ended
        if x1 < vx0 - 0.15 * width or x0 > vx1 + 0.15 * width:
            continue  # another column
        toks = line.toks
        if not toks:
            continue
        if _REG_LINE.search(line.text) and not picked:
            last = line
            continue  # company registration number between name and address
        if any(toks[:len(s)] == s for s in stops) or "@" in line.text or find_dates(line.text, "DMY"):
            break
        if picked and _PHONE.search(line.text) and not re.search(r"[A-Za-z]{3,}", line.text):
            break
        picked.append(line)
        last = line
        if len(picked) >= 5:
            break
    if not picked or not any(c.isdigit() for l in picked for c in l.text):
        return None  # an address has a number or a postcode somewhere
    text = re.sub(r"\s+", " ", " ".join(l.text for l in picked)).strip(" ,.")
    words = [w for l in picked for w in l.words]
    return Found(text, words, vendor_line.page, "position", 1.0)


# ---------------------------------------------------------------- currency

def _currency(lines: list[Line], rules: Rules) -> Found | None:
    votes: Counter[str] = Counter()
    where: dict[str, tuple[Line, Word]] = {}
    codes = set(rules.currency_codes)
    symbols = sorted(rules.currency_symbols.items(), key=lambda kv: -len(kv[0]))
    for line in lines:
        for w in line.words:
            raw = w.text.strip("():.,;")
            if raw.upper() in codes and (raw.isupper() or len(raw) == 3):
                votes[raw.upper()] += 2  # a printed code is the strongest evidence
                where.setdefault(raw.upper(), (line, w))
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
                    break
    if not votes:
        return None
    code, n = votes.most_common(1)[0]
    line, word = where[code]
    return Found(code, [word], line.page, "pattern", min(1.0, 0.7 + 0.1 * n))


# ---------------------------------------------------------------- all fields

def extract_invoice_fields(doc: Document, rules: Rules, is_receipt: bool) -> dict[str, Found]:
    lines = doc_lines(doc)
    if not lines:
        return {}
    text = TextIndex(lines).text
    order = date_order(text, rules)
    wanted = rules.doc_type_fields["receipt" if is_receipt else "invoice"]
    out: dict[str, Found] = {}

    def date_parse(ws: list[Word]):
        return _date(ws, order)

    if "invoice_number" in wanted:
        f = _best(_labelled("invoice_number", lines, rules, _identifier))
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
                page, words = index.words_in(hit.start, hit.end)
                if words:
                    f = Found(hit.value, words, page, "pattern", 0.8 if is_receipt else 0.6)
                    break
        if f:
            out["invoice_date"] = f
    if "due_date" in wanted:
        f = _best(_labelled("due_date", lines, rules, date_parse))
        if f:
            out["due_date"] = f
    if "total_amount" in wanted:
        f = _best(_labelled("total_amount", lines, rules, _amount), prefer_larger_amount=True)
        if f:
            out["total_amount"] = f
    if "tax_amount" in wanted:
        cands = [c for c in _labelled("tax_amount", lines, rules, _amount)]
        total = out.get("total_amount")
        if total:
            cands = [c for c in cands if float(c.value) < float(total.value)]
        f = _best([c for c in cands if float(c.value) > 0])
        if f:
            out["tax_amount"] = f
    if "vendor_name" in wanted or "vendor_address" in wanted:
        name, line = _vendor_name(doc, lines, rules, is_receipt)
        if name and "vendor_name" in wanted:
            out["vendor_name"] = name
        if "vendor_address" in wanted:
            addr = _vendor_address(line, lines, rules)
            if addr:
                out["vendor_address"] = addr
    if "currency" in wanted:
        f = _currency(lines, rules)
        if f:
            out["currency"] = f
    return out


