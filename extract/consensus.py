"""Archive consensus: the same vendor, read many times, is read right by the majority.

A shop's receipts all print the same name and address, and OCR misreads a different letter on
each ("MR. D.I.Y. (M) SDN BHD", "MR. D.1.Y. (M) SDN BHD", "MR. D.I.Y. (M) SON BHD"). The
machine readings of the documents already in the archive are kept (no person involved, no gold
values); a new reading is compared with them, and when enough readings are alike, the
word-by-word majority of those readings replaces it:

    readings = Readings()
    readings.add("vendor_name", "MR. D.I.Y. (M) SDN BHD")      # what extraction read, per document
    readings.consensus("vendor_name", "MR. D.1.Y. (M) SDN BHD")
    # -> Consensus(value="MR. D.I.Y. (M) SDN BHD", support=..., agreement=...)

When no readings are alike (a vendor's first documents, or one misread in many places), single
words are still spelled as the archive spells them: a word OCR was unsure of, never read in the
archive, one letter away from a word read often ("SELAMGOR" -> "SELANGOR", ``Readings.spelled``).

Readings are kept per archive in an append-only JSON-lines file (``ReadingLog``): one line per
stored invoice/receipt, appended atomically, so parallel ingests never lose one.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from itertools import product
from pathlib import Path

from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from extract.vendors import name_key

__all__ = ["FIELDS", "MIN_RATIO", "MIN_SUPPORT", "UNSURE_CONF", "Consensus", "Readings", "ReadingLog", "raw_readings",
           "words_of"]

FIELDS = ("vendor_name", "vendor_address")  # the fields printed alike on every document of a vendor
# Readings are of the same printed text when rapidfuzz's ratio of their keys is at least this:
# 2-3 misread characters in a 20-character name; a shop of the same chain elsewhere differs more.
MIN_RATIO = 85.0
MIN_REWORDED_RATIO = 90.0  # a majority with another word count must be this alike to the reading
MIN_SUPPORT = 2  # readings alike (the new one included) before their majority is trusted
# Spelling single words (``Readings.spelled``): a word is respelled only when OCR read it with less
# confidence than this, and only as a word at least MIN_WORD_READINGS readings hold. Measured in CV
# on the dev receipts/invoices: every respelling of a word read below 0.7 (mostly words the two OCR
# engines read differently, ingest.rapid.DISAGREE) was right (LUT -> LOT, TANAN -> TAMAN, Rhd ->
# Bhd); every wrong one was of a word read at 0.77 or more (BATU -> BARU, JASA -> JAYA, SUN -> SDN).
UNSURE_CONF = 0.7
MIN_WORD_READINGS = 3
_LETTER_FOR = {"0": "O", "1": "IL", "5": "S", "8": "B", "6": "G"}  # the letters OCR reads as these digits
MAX_READINGS = 100_000  # distinct readings kept in memory per field (the newest)
MAX_LOG_BYTES = 16 * 2**20  # only the log's newest 16 MiB (about 100,000 documents) are read


@dataclass(frozen=True)
class Consensus:
    value: str  # the word-by-word majority of the alike readings
    support: int  # how many readings were alike (the new one included)
    agreement: float  # share of them that read exactly the majority (on name_key), 0..1


_WORD = re.compile(r"[^\W_]+")  # a run of letters and digits: "SHAH AIAM.SEL," holds SHAH, AIAM, SEL


def words_of(text: str) -> set[str]:
    """The words of ``text`` as the archive counts them: runs of letters and digits, upper-cased."""
    return set(_WORD.findall(text.upper()))


def _core(token: str) -> str:
    """A whitespace token as the archive counts it: "Selangor," is SELANGOR."""
    found = _WORD.findall(token.upper())
    return found[0] if len(found) == 1 else ""


@dataclass
class Readings:
    """Machine readings of ``FIELDS`` seen in the archive: per field, how often each spelling was
    read (``counts``), its ``name_key`` (``keys``, in the same order) and, per word (``words_of``),
    how many readings hold it (``words``); ``vocab`` lists the words at least ``MIN_WORD_READINGS``
    readings hold (the spellings ``spelled`` may give; kept as readings are added, not derived per
    call, so spelling stays cheap on a large archive)."""

    counts: dict[str, Counter] = field(default_factory=lambda: {f: Counter() for f in FIELDS})
    keys: dict[str, dict[str, str]] = field(default_factory=lambda: {f: {} for f in FIELDS})  # spelling -> name_key
    words: dict[str, Counter] = field(default_factory=lambda: {f: Counter() for f in FIELDS})  # WORD -> readings with it
    vocab: dict[str, list[str]] = field(default_factory=lambda: {f: [] for f in FIELDS})

    def add(self, name: str, text: str) -> None:
        if name not in self.counts or not isinstance(text, str):
            return
        counter, keys = self.counts[name], self.keys[name]
        spelling = " ".join(text.split())
        if spelling not in keys:
            key = name_key(spelling)
            if len(key) < 3:
                return
            keys[spelling] = key
        counter[spelling] += 1
        words, vocab = self.words[name], self.vocab[name]
        for word in words_of(spelling):
            words[word] += 1
            if words[word] == MIN_WORD_READINGS and _spelling_word(word):
                vocab.append(word)
        if len(counter) > MAX_READINGS * 5 // 4:
            self._keep_newest(name)

    def _keep_newest(self, name: str) -> None:
        """Forget all but the ``MAX_READINGS`` newest distinct readings of ``name`` (at once, so
        that adding stays cheap)."""
        kept = list(self.counts[name])[-MAX_READINGS:]
        counter = Counter({s: self.counts[name][s] for s in kept})
        self.counts[name] = counter
        self.keys[name] = {s: self.keys[name][s] for s in kept}
        words: Counter = Counter()
        for spelling, n in counter.items():
            words.update({w: n for w in words_of(spelling)})
        self.words[name] = words
        self.vocab[name] = [w for w, n in words.items() if n >= MIN_WORD_READINGS and _spelling_word(w)]

    def copy(self) -> "Readings":
        return Readings({k: Counter(v) for k, v in self.counts.items()}, {k: dict(v) for k, v in self.keys.items()},
                        {k: Counter(v) for k, v in self.words.items()}, {k: list(v) for k, v in self.vocab.items()})

    def add_fields(self, fields: dict) -> None:
        """``fields``: ``{name: raw reading}`` of one document (see ``raw_readings``)."""
        for name, text in fields.items():
            self.add(name, text)

    def __len__(self) -> int:
        return sum(sum(c.values()) for c in self.counts.values())

    def spelled(self, name: str, text: str, unsure: set[str]) -> str:
        """``text`` with each word of ``unsure`` (upper-cased words OCR was unsure of) that the
        archive never read in ``name``, but one letter away from a word of ``vocab``, spelled as
        that word ("SELAMGOR" -> "SELANGOR"). A word with two such neighbours read about as often
        (neither twice the other) stays."""
        known = self.words.get(name)
        if not unsure or not known:
            return text

        def spell(match: re.Match) -> str:
            core = match.group()
            word = core.upper()
            if word not in unsure or len(word) < 3 or known[word]:
                return core
            if not word.isalpha():
                # Digits read for letters ("10T" for LOT): a reading of them that the archive reads often.
                readings = {"".join(r) for r in product(*(_LETTER_FOR.get(c, c) for c in word))}
                readings = [r for r in readings if r.isalpha() and known[r] >= MIN_WORD_READINGS]
                best = readings[0] if len(readings) == 1 else None
            else:
                # Three-letter words only by a changed letter ("JIN" -> "JLN", not "BHD" -> "BH").
                near = sorted(((known[w], w) for w, _, _ in process.extract(word, self.vocab[name], limit=None,
                                                                             scorer=Levenshtein.distance, score_cutoff=1)
                               if len(word) >= 4 or len(w) == len(word)), reverse=True)
                best = near[0][1] if near and (len(near) == 1 or near[1][0] * 2 <= near[0][0]) else None
            return core if best is None else _in_case_of(core, best)

        return _WORD.sub(spell, text)

    def consensus(self, name: str, text: str) -> Consensus | None:
        """The majority reading of ``text`` and the stored readings alike to it, when at least
        ``MIN_SUPPORT`` are alike; ``None`` otherwise. ``text`` itself counts as one reading."""
        counter = self.counts.get(name)
        key = name_key(text)
        if not counter or len(key) < 3:
            return None
        spellings = list(counter)  # in the order of self.keys[name]: both are filled and pruned together
        hits = process.extract(key, list(self.keys[name].values()), scorer=fuzz.ratio,
                               score_cutoff=MIN_RATIO, limit=None)
        alike: list[tuple[str, int]] = [(" ".join(text.split()), 1)]
        alike += [(spellings[i], counter[spellings[i]]) for _, _, i in hits]
        support = sum(n for _, n in alike)
        if support < MIN_SUPPORT:
            return None
        value = _token_majority(alike, self.words[name])
        if len(value.split()) != len(text.split()) and fuzz.ratio(name_key(value), key) < MIN_REWORDED_RATIO:
            return None  # the majority has other words, not other letters: another branch's name or address
        agree = sum(n for s, n in alike if name_key(s) == name_key(value))
        return Consensus(value, support, round(agree / support, 4))


def _in_case_of(read: str, word: str) -> str:
    """``word`` (upper-case) in the case of what was read: "Selamgor" -> "Selangor"; "10T" -> "LOT"."""
    letters = [c for c in read if c.isalpha()]
    if letters and all(c.islower() for c in letters):
        return word.lower()
    if len(letters) > 1 and letters[0].isupper() and all(c.islower() for c in letters[1:]):
        return word.title()
    return word


def _spelling_word(word: str) -> bool:
    """Whether ``spelled`` may give ``word``: letters only, three or more."""
    return word.isalpha() and len(word) >= 3


def _token_majority(readings: list[tuple[str, int]], known: Counter) -> str:
    """Word-by-word vote among the readings with the most common word count. A tie goes to
    the word more often read in the archive's other readings (``known`` counts readings per
    word, these readings included: "SDN" over "SON"), then to the first reading (the new
    one), which is also the answer when no word count has a majority."""
    lengths: Counter = Counter()
    for text, n in readings:
        lengths[len(text.split())] += n
    first = readings[0][0].split()
    length, votes = max(lengths.items(), key=lambda kv: (kv[1], kv[0] == len(first)))
    if votes * 2 <= sum(lengths.values()) and length != len(first):
        return " ".join(first)
    here: Counter = Counter()  # readings among these with the word (the new one is not in ``known``)
    for text, n in readings[1:]:
        here.update({w: n for w in words_of(text)})
    voters = [(text.split(), n) for text, n in readings if len(text.split()) == length]
    out = []
    for pos in range(length):
        tally: Counter = Counter()
        for words, n in voters:
            tally[words[pos]] += n
        mine = first[pos] if len(first) == length else None
        out.append(max(tally, key=lambda w: (tally[w], known[_core(w)] - here[_core(w)], w == mine)))
    return " ".join(out)


def raw_readings(doc) -> dict[str, str]:
    """What extraction read for ``FIELDS`` on an invoice/receipt ``Document``, before any known
    or agreed spelling replaced it; values a person set are not readings."""
    if doc.status != "ok" or doc.doc_type is None or doc.doc_type.label not in ("invoice", "receipt"):
        return {}
    out = {}
    for name in FIELDS:
        fv = doc.fields.get(name)
        if fv is not None and fv.source.startswith("extract."):
            text = fv.read_as or fv.value
            if isinstance(text, str):
                out[name] = text
    return out


class ReadingLog:
    """The archive's readings on disk: ``<path>`` holds one JSON line per stored document,
    ``{"id": ..., "vendor_name": ..., "vendor_address": ...}``. Lines are appended with one
    ``write`` on a file opened for appending (atomic for lines this short), so several ingest
    processes can share it.

    ``load`` keeps what it read per file in this process and later reads only the lines
    appended since (a long-running server or hot folder does not read the whole log for every
    upload); it returns a copy, which the caller may add this run's readings to."""

    _loaded: dict[str, tuple[tuple[int, int], int, Readings]] = {}  # path -> ((device, inode), offset, readings)
    _lock = threading.Lock()  # the web server's worker and request threads may load at once

    def __init__(self, path: Path):
        self.path = Path(path)

    def load(self) -> Readings:
        with self._lock:
            return self._load()

    def _load(self) -> Readings:
        try:
            stat = self.path.stat()
        except OSError:
            return Readings()
        file_id = (stat.st_dev, stat.st_ino)
        cached = self._loaded.get(str(self.path))
        fresh = cached is None or cached[0] != file_id or stat.st_size < cached[1]
        if fresh:
            # First read, or the log was rewritten (ecm reindex): its newest part is enough.
            cached = (file_id, max(0, stat.st_size - MAX_LOG_BYTES), Readings())
        _, offset, readings = cached
        with self.path.open("rb") as fh:
            fh.seek(offset)
            data = fh.read()
        if fresh and offset:
            cut = data.find(b"\n") + 1  # started inside a line: begin at the next one
            data, offset = data[cut:], offset + cut
        complete = data[:data.rfind(b"\n") + 1]  # a line still being written is read next time
        for line in complete.splitlines():
            try:
                row = json.loads(line)
            except ValueError:
                continue  # a line cut by a crash: skip it
            if isinstance(row, dict):
                readings.add_fields({k: row[k] for k in FIELDS if isinstance(row.get(k), str)})
        self._loaded[str(self.path)] = (file_id, offset + len(complete), readings)
        return readings.copy()

    def append(self, doc_id: str | None, fields: dict) -> None:
        row = {k: fields[k][:500] for k in FIELDS if isinstance(fields.get(k), str)}
        if not row:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = (json.dumps({"id": doc_id, **row}, ensure_ascii=False) + "\n").encode("utf-8")
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
