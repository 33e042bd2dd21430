"""Undo the digit/letter swaps OCR makes inside one token of a name or an address.

Conservative: a token changes only when its other characters say which reading was meant.

* a number with look-alike letters inside: "400OO" -> "40000", "2B11" -> "2811", "IB51" -> "1851",
  "411SO" -> "41150"; a letter before or after the digits stays ("S117", "118B", "SS21" are lots);
* a word with zeros for O: "L0T" -> "LOT", "FL00R" -> "FLOOR", and the abbreviation "N0" -> "NO";
* two characters, a digit and a letter that is always a digit's look-alike: "O6" -> "06", "I5" -> "15";
* a word of four letters or more with one look-alike digit between letters: "ANG5A" -> "ANGSA",
  "PE1RO" -> "PEIRO" ("U5", "SS4C", "A-G-06" are lots and stay).

Whole misread words are spelled elsewhere (``extract.consensus.Readings.spelled``): from the
archive's own readings, and only words OCR was unsure of. A speller with a fixed list of address
words and place names was measured and not kept: it changed right words more often than wrong ones
("BAHRU" -> "BARU", "UTAMA" -> "UTARA"), Tesseract's confidence alone did not tell the two apart.
"""

from __future__ import annotations

import re

__all__ = ["fix_confusions"]

_ALWAYS = {"O": "0", "o": "0", "I": "1", "l": "1", "i": "1"}  # never a lot's letter suffix
_INSIDE = {"S": "5", "s": "5", "B": "8", "b": "8"}  # only between digits ("S117", "118B" stay)
_AS_LETTER = {"5": "S", "1": "I", "8": "B", "0": "O"}


def _fix_token(t: str) -> str:
    letters = {c for c in t if c.isalpha()}
    digits = sum(c.isdigit() for c in t)
    if len(t) == 2 and digits == 1:
        if t in ("N0", "n0"):  # "No." as in "No. 3, Jalan ..."
            return t[0] + ("O" if t[0] == "N" else "o")
        return "".join(_ALWAYS.get(c, c) for c in t) if letters <= set(_ALWAYS) else t
    if letters and digits >= 2 and letters <= set(_ALWAYS) | set(_INSIDE):
        chars = [_ALWAYS.get(c, c) for c in t]
        for i in range(1, len(chars) - 1):
            if chars[i] in _INSIDE and chars[i - 1].isdigit() and (chars[i + 1].isdigit() or chars[i + 1] in _INSIDE):
                chars[i] = _INSIDE[chars[i]]
        fixed = "".join(chars)
        return fixed if sum(c.isdigit() for c in fixed) > len(fixed) / 2 else t
    if digits and {c for c in t if c.isdigit()} == {"0"} and len(letters) >= 1 and sum(c.isalpha() for c in t) >= 2:
        return t.replace("0", "o" if t.replace("0", "").islower() else "O")
    if digits == 1 and sum(c.isalpha() for c in t) >= 4:
        i = next(i for i, c in enumerate(t) if c.isdigit())
        if t[i] in _AS_LETTER and 0 < i < len(t) - 1 and t[i - 1].isalpha() and t[i + 1].isalpha():
            letter = _AS_LETTER[t[i]]
            return t[:i] + (letter.lower() if t[i - 1].islower() and t[i + 1].islower() else letter) + t[i + 1:]
    return t


def fix_confusions(text: str) -> str:
    """Letters read as digits and digits read as letters, token by token."""
    return re.sub(r"[A-Za-z0-9]+", lambda m: _fix_token(m.group()), text)
