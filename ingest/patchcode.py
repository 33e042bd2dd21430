"""Kodak patch codes: the four-bar separator sheets mailrooms put between documents.

A patch code is four parallel black bars, two wide (0.20 in) and two narrow (0.08 in),
separated by narrow spaces (0.08 in): 0.80 in across in all, the bars at least 0.75 in long
(usually 2.5 in) and at least 0.25 in away from anything else printed. Which two bars are
wide names the code, read from the leading edge of the sheet (Kodak A-61599):

    WWNN 1   WNNW 2   WNWN 3   NWWN 4   NNWW 6   NWNW T

zxing reads no patch codes, so this module finds them in the page image: dark connected
components that are solid, elongated bars (their width, length and direction from second
moments, so a few degrees of skew and either orientation cost nothing), four of them
parallel, side by side and alike in length, whose widths split into two wide and two
narrow, with narrow spaces between them and a quiet zone beside them. That combination
does not occur in text, rules, tables or ordinary barcodes (whose spaces vary and whose
bars have close neighbours).

Direction: the bars are read from the nearest edge of the page inwards (the leading edge
the scanner would read them from). A sheet turned 180 degrees reads backwards, which turns
patch 3 into T and 1 into 6 (2 and 4 read the same both ways): configure separators so
that each of those pairs is treated alike unless the sheets are fed one way up.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy import ndimage

__all__ = ["PATCH_CODES", "find_patch_codes"]

# Bar widths in reading order (W wide, N narrow) -> the code's name.
PATCH_CODES = {"WWNN": "1", "WNNW": "2", "WNWN": "3", "NWWN": "4", "NNWW": "6", "NWNW": "T"}

WORK_DPI = 100  # pages are reduced to about this first: a narrow bar is still 8 px, the work is 9x less
# Tolerances, generous where scanning changes things (ink spread, blur, a wrong dpi in a
# TIFF header), tight where only a patch code fits (two widths, 2.5:1, narrow spaces).
NARROW_INCHES = (0.03, 0.20)  # nominal 0.08; wide enough for a dpi declared 2x wrong
MIN_LENGTH_INCHES = 0.5  # Kodak asks for 0.75
MIN_ELONGATION = 3.0  # length / width of a bar (a 0.75 in wide bar: 3.75)
MIN_SOLIDITY = 0.75  # share of the bar's rectangle that is dark
PARALLEL_DEGREES = 4.0
WIDE_TO_NARROW = (1.7, 3.6)  # nominal 2.5
SPACE_TO_NARROW = (0.4, 2.0)  # nominal 1.0
QUIET_ZONE_NARROWS = 2.5  # Kodak: 0.25 in = 3 narrow bars
QUIET_ZONE_MAX_DARK = 0.04  # share of dark pixels allowed in the quiet zone (scan noise)
NEIGHBOUR_NARROWS = 12  # no other bar of the same length and direction this close (about 1 in)


@dataclass(frozen=True)
class _Bar:
    label: int
    x: float  # centre, working pixels
    y: float
    length: float
    width: float
    angle: float  # direction of the long side, degrees in [0, 180)

    @property
    def horizontal(self) -> bool:
        return self.angle < 45 or self.angle >= 135


def find_patch_codes(image: Image.Image, dpi: int) -> list[str]:
    """The patch codes on a page image ("1", "2", "3", "4", "6", "T"), each once, in the
    order found; empty when there are none. ``dpi`` is the image's resolution."""
    gray, dpi = _working_image(image, dpi)
    dark = _dark_mask(gray)
    labels, count = ndimage.label(dark, structure=np.ones((3, 3), dtype=bool))
    if count < 4:
        return []
    bars = _bars(labels, count, dpi)
    codes: list[str] = []
    used: set[int] = set()
    for anchor in bars:
        if anchor.label in used:
            continue
        for group in _groups_around(anchor, bars, used, dpi):
            code = _read(group, bars, dark, dpi)
            if code is not None:
                used.update(b.label for b in group)
                if code not in codes:
                    codes.append(code)
                break
    return codes


def _working_image(image: Image.Image, dpi: int) -> tuple[np.ndarray, float]:
    gray = image.convert("L") if image.mode != "L" else image
    factor = max(1, int(dpi // WORK_DPI))
    if factor > 1:
        gray = gray.reduce(factor)
    return np.asarray(gray), dpi / factor


def _dark_mask(gray: np.ndarray) -> np.ndarray:
    # The median removes salt-and-pepper scan noise; the threshold follows the paper's own
    # brightness (grey recycled paper, a dim scanner lamp).
    smooth = ndimage.median_filter(gray, size=3)
    paper = float(np.median(smooth))
    return smooth < 0.55 * paper


def _bars(labels: np.ndarray, count: int, dpi: float) -> list[_Bar]:
    areas = np.bincount(labels.ravel(), minlength=count + 1)
    min_area = (NARROW_INCHES[0] * dpi) * (MIN_LENGTH_INCHES * dpi) * MIN_SOLIDITY
    bars = []
    slices = ndimage.find_objects(labels)
    for label in np.nonzero(areas >= min_area)[0]:
        if label == 0:
            continue
        rows, cols = slices[label - 1]
        ys, xs = np.nonzero(labels[rows, cols] == label)
        xs = xs + cols.start
        ys = ys + rows.start
        x, y = xs.mean(), ys.mean()
        cov = np.cov(np.vstack([xs, ys]), bias=True)
        (minor, major), vectors = np.linalg.eigh(cov)
        # A uniform run of k pixels has variance (k^2 - 1) / 12.
        length, width = math.sqrt(12 * major + 1), math.sqrt(12 * max(minor, 0.0) + 1)
        if width * MIN_ELONGATION > length or length < MIN_LENGTH_INCHES * dpi:
            continue
        if not (NARROW_INCHES[0] * dpi <= width <= NARROW_INCHES[1] * WIDE_TO_NARROW[1] * dpi):
            continue
        if areas[label] < MIN_SOLIDITY * length * width:
            continue
        ux, uy = vectors[:, 1]
        angle = math.degrees(math.atan2(uy, ux)) % 180
        bars.append(_Bar(int(label), float(x), float(y), length, width, angle))
    return bars


def _frame(bar: _Bar) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors along the bar and across it."""
    a = math.radians(bar.angle)
    along = np.array([math.cos(a), math.sin(a)])
    return along, np.array([-along[1], along[0]])


def _fits(a: _Bar, b: _Bar, along: np.ndarray, across: np.ndarray, dpi: float) -> bool:
    """Could ``b`` be another bar of the same patch code as ``a``?"""
    turn = abs(a.angle - b.angle) % 180
    if min(turn, 180 - turn) > PARALLEL_DEGREES:
        return False
    if min(a.length, b.length) < 0.8 * max(a.length, b.length):
        return False
    offset = np.array([b.x - a.x, b.y - a.y])
    return abs(offset @ along) < 0.2 * a.length and abs(offset @ across) < 1.2 * dpi


def _groups_around(anchor: _Bar, bars: list[_Bar], used: set[int], dpi: float) -> list[list[_Bar]]:
    """Every run of four neighbouring bars (side by side, across the bars) that includes ``anchor``."""
    along, across = _frame(anchor)
    stack = [anchor] + [b for b in bars if b.label != anchor.label and b.label not in used
                        and _fits(anchor, b, along, across, dpi)]
    if len(stack) < 4:
        return []
    stack.sort(key=lambda b: np.array([b.x, b.y]) @ across)
    at = stack.index(anchor)
    return [stack[i:i + 4] for i in range(max(0, at - 3), min(at, len(stack) - 4) + 1)]


def _read(group: list[_Bar], bars: list[_Bar], dark: np.ndarray, dpi: float) -> str | None:
    """The code the four bars spell, or None when they are not a patch code."""
    along, across = _frame(group[0])
    group = sorted(group, key=lambda b: np.array([b.x, b.y]) @ across)
    position = [np.array([b.x, b.y]) @ across for b in group]
    widths = [b.width for b in group]
    narrow_pair, wide_pair = sorted(widths)[:2], sorted(widths)[2:]
    narrow, wide = sum(narrow_pair) / 2, sum(wide_pair) / 2
    if not (NARROW_INCHES[0] * dpi <= narrow <= NARROW_INCHES[1] * dpi):
        return None
    if not (WIDE_TO_NARROW[0] <= wide / narrow <= WIDE_TO_NARROW[1]):
        return None
    if max(narrow_pair) > 1.35 * narrow or min(wide_pair) < 0.75 * wide or min(wide_pair) < 1.5 * max(narrow_pair):
        return None
    for k in range(3):
        space = position[k + 1] - position[k] - (widths[k] + widths[k + 1]) / 2
        if not (SPACE_TO_NARROW[0] * narrow <= space <= SPACE_TO_NARROW[1] * narrow):
            return None
    if not _quiet(group, position, along, across, narrow, dark):
        return None
    # The four bars stand alone: a fifth bar like them nearby makes this part of a barcode
    # (Interleaved 2 of 5 and Code 39 have patch-like runs between wider spaces).
    lo, hi = position[0] - widths[0] / 2, position[-1] + widths[-1] / 2
    members = {b.label for b in group}
    for other in bars:
        if other.label in members or not _fits(group[0], other, along, across, dpi):
            continue
        at = np.array([other.x, other.y]) @ across
        if lo - NEIGHBOUR_NARROWS * narrow < at < hi + NEIGHBOUR_NARROWS * narrow:
            return None
    # Reading order: from the nearest page edge inwards (see the module docstring).
    height, width = dark.shape
    centre_x = sum(b.x for b in group) / 4
    centre_y = sum(b.y for b in group) / 4
    if group[0].horizontal:
        order = sorted(group, key=lambda b: b.y, reverse=centre_y > height / 2)
    else:
        order = sorted(group, key=lambda b: b.x, reverse=centre_x > width / 2)
    threshold = (narrow + wide) / 2
    return PATCH_CODES.get("".join("W" if b.width > threshold else "N" for b in order))


def _quiet(group: list[_Bar], position: list[float], along: np.ndarray, across: np.ndarray,
           narrow: float, dark: np.ndarray) -> bool:
    """Nothing printed in a strip of ``QUIET_ZONE_NARROWS`` narrow widths on either side."""
    half_length = min(b.length for b in group) / 2 * 0.9
    centre_along = float(np.mean([np.array([b.x, b.y]) @ along for b in group]))
    zone = QUIET_ZONE_NARROWS * narrow
    lo = position[0] - group[0].width / 2
    hi = position[-1] + group[-1].width / 2
    corners = []
    for a in (centre_along - half_length, centre_along + half_length):
        for c in (lo - zone, hi + zone):
            corners.append(a * along + c * across)
    corners = np.array(corners)
    height, width = dark.shape
    x0, y0 = np.floor(corners.min(axis=0)).astype(int)
    x1, y1 = np.ceil(corners.max(axis=0)).astype(int)
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1 + 1, width), min(y1 + 1, height)
    if x1 <= x0 or y1 <= y0:
        return False
    ys, xs = np.mgrid[y0:y1, x0:x1]
    a = xs * along[0] + ys * along[1]
    c = xs * across[0] + ys * across[1]
    inside_along = np.abs(a - centre_along) <= half_length
    before = inside_along & (c >= lo - zone) & (c < lo - 1)
    after = inside_along & (c > hi + 1) & (c <= hi + zone)
    window = dark[y0:y1, x0:x1]
    for strip in (before, after):
        cells = int(strip.sum())
        # Kodak keeps patches 0.25 in from the edges too: bars cut off by the edge are not one.
        if cells < 0.5 * zone * 2 * half_length:
            return False
        if window[strip].sum() > QUIET_ZONE_MAX_DARK * cells:
            return False
    return True
