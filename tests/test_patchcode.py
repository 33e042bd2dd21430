"""Kodak patch codes found in page images: every code, 150-300 dpi, skew, noise, both
orientations; and nothing found on text, tables, redactions or ordinary barcodes."""

from __future__ import annotations

import random

import numpy as np
import pytest
import zxingcpp
from PIL import Image, ImageDraw, ImageFilter, ImageFont

import ingest.ocr
from ecm.document import Word
from ingest.patchcode import PATCH_CODES, find_patch_codes
from tests.conftest import need_data

BARS = {code: widths for widths, code in PATCH_CODES.items()}  # "T" -> "NWNW"


def letter(dpi: int) -> Image.Image:
    return Image.new("L", (round(8.5 * dpi), round(11 * dpi)), 255)


def patch_sheet(code: str, dpi: int = 200, turn: int = 0, skew: float = 0.0, noise: float = 0.0,
                seed: int = 0, bar_inches: float = 2.5, text: str = "") -> Image.Image:
    """A scanned patch sheet: the code's bars (wide 0.20 in, narrow and spaces 0.08 in) near the
    top edge, then turned by ``turn`` degrees, skewed, blurred and speckled like a scan."""
    sheet = letter(dpi)
    draw = ImageDraw.Draw(sheet)
    x, y = 1.5 * dpi, 0.6 * dpi
    for bar in BARS[code]:
        width = (0.20 if bar == "W" else 0.08) * dpi
        draw.rectangle([round(x), round(y), round(x + bar_inches * dpi) - 1, round(y + width) - 1], fill=0)
        y += width + 0.08 * dpi
    if text:
        draw.text((1.5 * dpi, 2.5 * dpi), text, fill=0, font=ImageFont.load_default(size=int(0.25 * dpi)))
    if turn:
        sheet = sheet.rotate(turn, expand=True)
    if skew:
        sheet = sheet.rotate(skew, resample=Image.Resampling.BILINEAR, fillcolor=255, expand=True)
    if noise:
        rng = np.random.default_rng(seed)
        pixels = np.asarray(sheet.filter(ImageFilter.GaussianBlur(dpi / 150)), dtype=np.float32)
        pixels += rng.normal(0, 255 * noise, pixels.shape)
        specks = rng.random(pixels.shape)
        pixels[specks < noise / 20] = 0
        pixels[specks > 1 - noise / 20] = 255
        sheet = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    return sheet


CASES = [(dpi, code) for dpi in (150, 200, 300) for code in "12346T"]


@pytest.mark.parametrize("dpi,code", CASES)
def test_every_code_at_every_resolution_skewed_and_noisy(dpi: int, code: str):
    # Each case its own orientation (bars across or along the page) and skew of up to 5 degrees.
    rng = random.Random(f"{dpi}{code}")
    sheet = patch_sheet(code, dpi, turn=rng.choice([0, 90]), skew=rng.uniform(-5, 5), noise=0.1, seed=dpi)
    assert find_patch_codes(sheet, dpi) == [code]


@pytest.mark.parametrize("turn", [90, 180, 270])
def test_a_turned_sheet_reads_from_its_nearest_edge(turn: int):
    # Patch 3 and T are each other backwards: reading from the wrong edge would swap them.
    for code in "3T16":
        assert find_patch_codes(patch_sheet(code, 200, turn=turn, skew=1.5, noise=0.05), 200) == [code]


def test_short_bars_and_a_printed_label():
    sheet = patch_sheet("2", 300, bar_inches=0.8, text="PATCH 2  document separator", noise=0.05)
    assert find_patch_codes(sheet, 300) == ["2"]


def test_a_wrong_resolution_in_the_file_does_not_matter():
    # TIFF headers often say 300 dpi (or nothing) whatever the scan was: widths are compared to each other.
    assert find_patch_codes(patch_sheet("6", 150, noise=0.05), 300) == ["6"]
    assert find_patch_codes(patch_sheet("1", 300, noise=0.05), 150) == ["1"]


def bars_page(widths: list[float], spaces: list[float], dpi: int = 200) -> Image.Image:
    page = letter(dpi)
    draw = ImageDraw.Draw(page)
    y = dpi
    for k, width in enumerate(widths):
        draw.rectangle([dpi, y, 4 * dpi, y + width * dpi], fill=0)
        y += width * dpi + (spaces[k] if k < len(spaces) else 0) * dpi
    return page


def test_four_bars_that_do_not_spell_a_code_are_not_one():
    assert find_patch_codes(bars_page([0.08] * 4, [0.08] * 3), 200) == []  # all narrow
    assert find_patch_codes(bars_page([0.2, 0.08, 0.08, 0.2], [0.3, 0.08, 0.08]), 200) == []  # a wide space
    assert find_patch_codes(bars_page([0.2, 0.08, 0.08, 0.2, 0.08], [0.08] * 4), 200) == []  # five bars


def barcode_page(fmt: zxingcpp.BarcodeFormat, value: str, dpi: int, scale: int) -> Image.Image:
    page = letter(dpi)
    code = zxingcpp.create_barcode(value, fmt)
    image = Image.fromarray(np.asarray(zxingcpp.write_barcode_to_image(code, scale=scale)))
    page.paste(image.resize((image.width, dpi)), (dpi, dpi))
    return page


# Interleaved 2 of 5 and Code 39 are wide/narrow codes too: runs of their bars look like patches.
BARCODES = [(zxingcpp.BarcodeFormat.Code128, "ECM-SEPARATOR-0001"), (zxingcpp.BarcodeFormat.Code39, "SEP0001"),
            (zxingcpp.BarcodeFormat.ITF, "12345678901234"), (zxingcpp.BarcodeFormat.Codabar, "A123456A"),
            (zxingcpp.BarcodeFormat.EAN13, "4006381333931"), (zxingcpp.BarcodeFormat.QRCode, "ECM SEPARATOR")]


@pytest.mark.parametrize("fmt,value", BARCODES, ids=[str(f).rsplit(".", 1)[-1] for f, _ in BARCODES])
def test_ordinary_barcodes_are_not_patch_codes(fmt, value):
    for dpi, scale in ((150, 6), (200, 10), (300, 16), (300, 4)):
        assert find_patch_codes(barcode_page(fmt, value, dpi, scale), dpi) == [], (dpi, scale)


def busy_page(kind: str, dpi: int = 200, seed: int = 0) -> Image.Image:
    """A page of text with black table rules and header bands, or with redaction bars."""
    rng = random.Random(seed)
    page = letter(dpi)
    draw = ImageDraw.Draw(page)
    font = ImageFont.load_default(size=int(0.14 * dpi))
    draw.text((dpi, 0.8 * dpi), "INVOICE", font=ImageFont.load_default(size=int(0.3 * dpi)), fill=0)
    y = 1.4 * dpi
    while y < 10 * dpi:
        if kind == "table" and rng.random() < 0.3:
            draw.rectangle([dpi, y, 7.5 * dpi, y + rng.choice([0.03, 0.08, 0.2]) * dpi], fill=0)
        elif kind == "redacted" and rng.random() < 0.5:
            draw.rectangle([dpi + rng.random() * dpi, y, (3 + rng.random() * 4) * dpi, y + 0.16 * dpi], fill=0)
        else:
            words = rng.choices(["total", "amount", "agreement", "party", "1,234.00", "of"], k=10)
            draw.text((dpi, y), " ".join(words), font=font, fill=0)
        y += 0.24 * dpi
    return page


@pytest.mark.parametrize("kind", ["text", "table", "redacted"])
def test_text_tables_and_redactions_are_not_patch_codes(kind: str):
    for seed in range(3):
        page = busy_page(kind, seed=seed).rotate(random.Random(seed).choice([0, 2, 90]), expand=True, fillcolor=255)
        assert find_patch_codes(page, 200) == []


def test_real_scanned_pages_are_not_patch_codes():
    data = need_data()
    scans = sorted((data / "docs" / "sroie").glob("*.jpg"))[:8]
    assert scans
    for path in scans:
        with Image.open(path) as im:
            assert find_patch_codes(im.convert("L"), 300) == [], path.name


def test_ocr_looks_for_patch_codes_only_on_near_empty_pages(monkeypatch):
    """The detector costs nothing on pages of text: it is not even called."""
    sheet = patch_sheet("T", 150)
    few = [Word(text="PATCH", bbox=(0, 0, 10, 10)), Word(text="T", bbox=(12, 0, 20, 10))]
    assert ingest.ocr._barcodes(sheet, 150, few) == ["PATCH:T"]

    def must_not_run(*args):
        raise AssertionError("patch-code detection ran on a page of text")

    monkeypatch.setattr(ingest.ocr, "find_patch_codes", must_not_run)
    many = [Word(text=f"word{i}", bbox=(0, 0, 10, 10)) for i in range(200)]
    assert ingest.ocr._barcodes(sheet, 150, many) == []
