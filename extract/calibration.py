"""Confidence that means something: raw scores mapped to the probability of being right.

A ``Calibration`` holds monotone piecewise-linear curves (isotonic regression, fitted by
``bench/accuracy.py --cv --write-calibration`` on cross-validated predictions of the dev set)
keyed by what was predicted:

* ``field:<name>:<method>`` (the FieldValue source's suffix, e.g. ``field:total_amount:layout``), falling back to
  ``field:<name>`` and then ``field:*``: raw field confidence (method base x evidence score x
  OCR confidence of the words, see ``extract.found``) -> P(value correct);
* ``class``: the classifier's probability of its label -> P(label correct).

Curves are stored in ``calibration.json`` beside this module (a few hundred bytes of numbers,
no document values). Without a file, or for an unknown key, the raw score is used unchanged.
"""

from __future__ import annotations

import json
from bisect import bisect_right
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

__all__ = ["CALIBRATION_PATH", "Calibration", "fit_curve", "load_calibration"]

CALIBRATION_PATH = Path(__file__).with_name("calibration.json")
MIN_SAMPLES = 25  # a curve of its own needs at least this many predictions, else the fallback

Curve = list[tuple[float, float]]


def _pav(points: list[tuple[float, float, float]]) -> list[list[float]]:
    """Pool adjacent violators over (x, mean, weight) sorted by x -> blocks [x_lo, x_hi, mean, weight]."""
    blocks: list[list[float]] = []
    for x, y, w in points:
        blocks.append([x, x, y, w])
        while len(blocks) > 1 and blocks[-2][2] >= blocks[-1][2]:
            b = blocks.pop()
            a = blocks[-1]
            a[1] = b[1]
            a[2] = (a[2] * a[3] + b[2] * b[3]) / (a[3] + b[3])
            a[3] += b[3]
    return blocks


def fit_curve(scores: list[float], correct: list[bool], prior: float = 1.0) -> Curve:
    """Isotonic (non-decreasing) map from score to P(correct), Laplace-smoothed so that a block
    of a few all-correct predictions does not claim certainty. Returns breakpoints (x, p)."""
    if not scores:
        return []
    pairs = sorted(zip(scores, correct))
    grouped: list[tuple[float, float, float]] = []
    for x, ok in pairs:
        if grouped and abs(grouped[-1][0] - x) < 1e-9:
            gx, s, n = grouped[-1]
            grouped[-1] = (gx, s + ok, n + 1)
        else:
            grouped.append((x, float(ok), 1.0))
    blocks = _pav([(x, s / n, n) for x, s, n in grouped])
    # Smooth each block towards 1/2 by ``prior`` pseudo-counts, then restore monotonicity.
    smoothed = [(b[0], (b[2] * b[3] + prior) / (b[3] + 2 * prior), b[3] + 2 * prior, b[1]) for b in blocks]
    blocks = _pav([(x, y, w) for x, y, w, _ in smoothed])
    curve: Curve = []
    for lo, hi, y, _w in blocks:
        curve.append((round(lo, 4), round(y, 4)))
        if hi > lo:
            curve.append((round(hi, 4), round(y, 4)))
    return curve


def _apply(curve: Curve, x: float) -> float:
    if not curve:
        return x
    xs = [p[0] for p in curve]
    if x <= xs[0]:
        return curve[0][1]
    if x >= xs[-1]:
        return curve[-1][1]
    i = bisect_right(xs, x)
    (x0, y0), (x1, y1) = curve[i - 1], curve[i]
    if x1 <= x0:
        return max(y0, y1)
    return y0 + (y1 - y0) * (x - x0) / (x1 - x0)


@dataclass
class Calibration:
    curves: dict[str, Curve] = field(default_factory=dict)

    @classmethod
    def identity(cls) -> "Calibration":
        return cls({})

    def field(self, name: str, method: str, raw: float) -> float:
        for key in (f"field:{name}:{method}", f"field:{name}", "field:*"):
            if key in self.curves:
                return round(max(0.0, min(1.0, _apply(self.curves[key], raw))), 4)
        return raw

    def doc_class(self, raw: float) -> float:
        if "class" in self.curves:
            return round(max(0.0, min(1.0, _apply(self.curves["class"], raw))), 4)
        return raw

    @classmethod
    def fit(cls, field_rows: list[tuple[str, str, float, bool]],
            class_rows: list[tuple[float, bool]] = ()) -> "Calibration":
        """``field_rows``: (field, method, raw confidence, correct); ``class_rows``: (raw, correct)."""
        groups: dict[str, list[tuple[float, bool]]] = {}
        for name, method, raw, ok in field_rows:
            for key in (f"field:{name}:{method}", f"field:{name}", "field:*"):
                groups.setdefault(key, []).append((raw, ok))
        curves = {k: fit_curve([r for r, _ in rows], [ok for _, ok in rows])
                  for k, rows in groups.items() if len(rows) >= MIN_SAMPLES or k == "field:*"}
        if class_rows:
            curves["class"] = fit_curve([r for r, _ in class_rows], [ok for _, ok in class_rows])
        return cls(curves)

    def to_json(self) -> dict:
        return {"curves": {k: [list(p) for p in v] for k, v in sorted(self.curves.items())}}

    def save(self, path: Path = CALIBRATION_PATH) -> None:
        path = Path(path)
        tmp = path.with_suffix(".tmp")
        curves = self.to_json()["curves"]
        body = ",\n".join(f"  {json.dumps(k)}: {json.dumps(v)}" for k, v in curves.items())
        tmp.write_text('{"curves": {\n' + body + "\n}}\n", encoding="utf-8")  # one curve per line
        tmp.replace(path)  # readers never see a half-written file


@lru_cache(maxsize=4)
def _load(path: str, mtime: float) -> Calibration:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return Calibration({k: [tuple(p) for p in v] for k, v in data.get("curves", {}).items()})


def load_calibration(path: Path = CALIBRATION_PATH) -> Calibration:
    """The shipped calibration (identity when the file is absent)."""
    path = Path(path)
    if not path.is_file():
        return Calibration.identity()
    return _load(str(path), path.stat().st_mtime)
