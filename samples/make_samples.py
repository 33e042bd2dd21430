"""Generate the sample documents that ship with ecm (``samples/documents/``).

Every company, person, address and number here is invented; the output is ours to ship (CC0).
The run is deterministic (fixed seed, fixed dates in the PDFs), so re-running it reproduces the
committed files byte for byte on a machine with the same fonts:

    python samples/make_samples.py [OUT_DIR]      # default: samples/documents

Born-digital documents (fpdf2, core Helvetica: no font files needed, text layer for free):
two invoices, a three-page NDA, a letter. Scanned documents (Pillow at 300 dpi, DejaVu fonts if
installed, slight rotation and speckle noise): two receipts (JPEG, PNG), an image-only invoice
PDF and a two-page TIFF form. Scans are bi-level or lightly compressed to keep the whole set
under 2 MB, large and sharp enough for Tesseract.
"""

from __future__ import annotations

import io
import random
import subprocess
import sys
from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from fpdf import FPDF
from PIL import Image, ImageDraw, ImageFilter, ImageFont

__all__ = ["make_samples", "EXPECTED_PAGES", "SEED"]

SEED = 20240611
OUT_DIR = Path(__file__).resolve().parent / "documents"
FIXED_TIME = datetime(2024, 6, 1, 12, 0, tzinfo=timezone.utc)  # PDF creation dates: reproducible bytes
DPI = 300
LETTER_PX = (2550, 3300)  # US letter at 300 dpi
DEJAVU_DIR = Path("/usr/share/fonts/truetype/dejavu")

# File name -> page count, for tests and for readers of the README.
EXPECTED_PAGES = {
    "invoice_quillfeather_QS-2024-0173.pdf": 1,
    "invoice_harrowgate_HPW-58812.pdf": 1,
    "contract_nda_larkspur_copperfield.pdf": 3,
    "letter_ashgrove_lease_renewal.pdf": 1,
    "receipt_greenleaf_market.jpg": 1,
    "receipt_corner_hardware.png": 1,
    "scan_invoice_birchwood_BFS-10442.pdf": 1,
    "scan_form_supplier_registration.tif": 2,
}


def money(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):,.2f}"


def cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


# ============================================================================ born-digital


class _Pdf(FPDF):
    def __init__(self) -> None:
        super().__init__(unit="pt", format="letter")
        self.set_creation_date(FIXED_TIME)
        self.set_margins(54, 54, 54)
        self.set_auto_page_break(True, margin=64)
        self.set_creator("ecm samples/make_samples.py")

    def line_text(self, text: str, size: float = 10, style: str = "", height: float | None = None,
                  align: str = "L", width: float = 0) -> None:
        self.set_font("Helvetica", style, size)
        self.cell(width, height or size * 1.45, text, align=align, new_x="LMARGIN", new_y="NEXT")

    def paragraph(self, text: str, size: float = 10.5, style: str = "", gap: float = 7) -> None:
        self.set_font("Helvetica", style, size)
        self.multi_cell(0, size * 1.45, text, new_x="LMARGIN", new_y="NEXT")
        self.ln(gap)


def _invoice_pdf(inv: dict) -> bytes:
    pdf = _Pdf()
    pdf.set_title(f"Invoice {inv['number']}")
    pdf.set_author(inv["vendor"])
    pdf.add_page()
    top = pdf.get_y()
    pdf.line_text(inv["vendor"], 18, "B", 24)
    for line in inv["vendor_address"]:
        pdf.line_text(line, 10)
    # Right-hand block: the title and the invoice's key facts.
    pdf.set_xy(340, top)
    pdf.set_font("Helvetica", "B", 24)
    pdf.cell(218, 28, "INVOICE", align="R", new_x="LEFT", new_y="NEXT")
    pdf.ln(6)
    for label, value in (("Invoice No:", inv["number"]), ("Invoice Date:", inv["date"]),
                         ("Due Date:", inv["due"]), ("PO Number:", inv["po"]), ("Currency:", inv["currency"])):
        pdf.set_x(340)
        pdf.set_font("Helvetica", "B", 10)
        pdf.cell(90, 15, label)
        pdf.set_font("Helvetica", "", 10)
        pdf.cell(128, 15, value, align="R", new_x="LEFT", new_y="NEXT")
    pdf.set_y(max(pdf.get_y(), top + 150))
    pdf.line_text("Bill To:", 10, "B")
    for line in inv["bill_to"]:
        pdf.line_text(line, 10)
    pdf.ln(18)

    widths = (262, 50, 96, 96)
    pdf.set_fill_color(225, 232, 240)
    pdf.set_font("Helvetica", "B", 10)
    for w, head, align in zip(widths, ("Description", "Qty", "Unit Price", "Amount"), "LRRR"):
        pdf.cell(w, 20, head, border="B", align=align, fill=True)
    pdf.ln()
    pdf.set_font("Helvetica", "", 10)
    subtotal = Decimal("0")
    for description, qty, unit in inv["items"]:
        amount = cents(Decimal(str(qty)) * Decimal(unit))
        subtotal += amount
        for w, text, align in zip(widths, (description, f"{qty:g}", money(Decimal(unit)), money(amount)), "LRRR"):
            pdf.cell(w, 19, text, border="B", align=align)
        pdf.ln()
    tax = cents(subtotal * Decimal(inv["tax_rate"]) / 100)
    total = subtotal + tax
    pdf.ln(8)
    sym = inv["symbol"]
    for label, value, style in (("Subtotal", f"{sym}{money(subtotal)}", ""),
                                (f"{inv['tax_label']} ({inv['tax_rate']}%)", f"{sym}{money(tax)}", ""),
                                (f"TOTAL {inv['currency']}", f"{sym}{money(total)}", "B")):
        pdf.set_x(54 + widths[0])
        pdf.set_font("Helvetica", style, 11 if style else 10)
        pdf.cell(widths[1] + widths[2], 18, label, align="R")
        pdf.cell(widths[3], 18, value, align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(30)
    for line in inv["footer"]:
        pdf.line_text(line, 9)
    return bytes(pdf.output())


INVOICE_QUILLFEATHER = {
    "vendor": "Quillfeather Stationery Co.",
    "vendor_address": ["2218 Harbor View Road, Suite 400", "Portland, OR 97209", "Phone (503) 555-0147",
                       "billing@quillfeather.example"],
    "number": "QS-2024-0173", "date": "June 3, 2024", "due": "July 3, 2024", "po": "PO-55812",
    "currency": "USD", "symbol": "$", "tax_label": "Sales Tax", "tax_rate": "8.25",
    "bill_to": ["Larkspur Analytics, Inc.", "Attn: Accounts Payable", "88 Meridian Plaza", "Wilmington, DE 19801"],
    "items": [("Recycled copy paper, letter, 10-ream case", 12, "48.50"),
              ("Gel pens, black, box of 24", 6, "18.75"),
              ("Archival storage boxes, lidded", 20, "7.20"),
              ("Desk organizer, bamboo", 4, "26.00")],
    "footer": ["Payment terms: Net 30. Please quote the invoice number with your payment.",
               "Bank transfer: First Cascade Bank, account 000123456, routing 999000111.",
               "Thank you for your business."],
}

INVOICE_HARROWGATE = {
    "vendor": "Harrowgate Print Works Ltd",
    "vendor_address": ["Unit 7, Tanner's Yard", "Leeds LS9 8QT", "United Kingdom", "VAT Reg. No. GB 999 1234 56"],
    "number": "HPW-58812", "date": "12 July 2024", "due": "11 August 2024", "po": "CR-PO-3307",
    "currency": "GBP", "symbol": "\u00a3", "tax_label": "VAT", "tax_rate": "20",
    "bill_to": ["Copperfield Robotics LLC", "410 Foundry Street", "Brooklyn, NY 11201", "United States"],
    "items": [("Product brochure, A4, 8 pages (2,000 copies)", 1, "1240.00"),
              ("Trade show roll-up banner", 2, "185.00"),
              ("Business cards, 500 per box", 6, "42.50"),
              ("Design and proofing (hours)", 3.5, "60.00")],
    "footer": ["Payment within 30 days of the invoice date by bank transfer in GBP.",
               "Sort code 00-99-11, account 12345678, Harrowgate Print Works Ltd."],
}


NDA_SECTIONS = [
    ("1. Purpose",
     "The parties wish to explore a possible business relationship concerning the joint development of "
     "warehouse analytics for autonomous mobile robots (the \"Purpose\"). In the course of their discussions, "
     "each party (the \"Disclosing Party\") may disclose Confidential Information to the other party "
     "(the \"Receiving Party\")."),
    ("2. Confidential Information",
     "\"Confidential Information\" means all non-public information disclosed by the Disclosing Party, whether "
     "orally, in writing or in any other form, that is marked or identified as confidential or that a reasonable "
     "person would understand to be confidential, including software, designs, data sets, prices, customer "
     "lists, business plans and know-how."),
    ("3. Exclusions",
     "Confidential Information does not include information that (a) is or becomes publicly available through no "
     "fault of the Receiving Party; (b) was lawfully known to the Receiving Party before disclosure; (c) is "
     "lawfully received from a third party without a duty of confidentiality; or (d) is independently developed "
     "by the Receiving Party without use of the Confidential Information."),
    ("4. Obligations of the Receiving Party",
     "The Receiving Party shall use the Confidential Information solely for the Purpose, shall not disclose it to "
     "any third party except to its employees and advisers who need to know it for the Purpose and are bound by "
     "obligations of confidentiality no less protective than those in this Agreement, and shall protect it with "
     "at least the degree of care it uses for its own confidential information, and no less than reasonable care."),
    ("5. Compelled Disclosure",
     "If the Receiving Party is required by law, regulation or court order to disclose any Confidential "
     "Information, it shall give the Disclosing Party prompt written notice, where legally permitted, and shall "
     "disclose only the portion that it is legally required to disclose."),
    ("6. Return of Materials",
     "Upon the written request of the Disclosing Party, the Receiving Party shall promptly return or destroy all "
     "documents and copies containing Confidential Information and shall certify in writing that it has done so, "
     "except for copies kept in routine back-up systems, which remain subject to this Agreement."),
    ("7. No License; No Warranty",
     "Nothing in this Agreement grants either party any license or right in the other party's intellectual "
     "property. All Confidential Information is provided \"AS IS\", without warranty of any kind."),
    ("8. Term",
     "This Agreement shall remain in effect for a term of two (2) years from the Effective Date. The obligations "
     "of confidentiality shall survive for three (3) years after the expiration or termination of this Agreement."),
    ("9. Remedies",
     "Each party acknowledges that unauthorized disclosure of Confidential Information may cause irreparable harm "
     "for which damages would be an inadequate remedy, and that the Disclosing Party shall be entitled to seek "
     "injunctive relief in addition to any other remedy available at law or in equity."),
    ("10. Governing Law",
     "This Agreement shall be governed by the laws of the State of New York, without regard to its conflict of "
     "laws principles. The parties submit to the exclusive jurisdiction of the state and federal courts located "
     "in New York County, New York."),
    ("11. Entire Agreement",
     "This Agreement is the entire agreement between the parties on its subject matter and supersedes all prior "
     "discussions. It may be amended only by a written instrument signed by both parties. If any provision is "
     "held unenforceable, the remaining provisions remain in full force and effect."),
    ("12. Counterparts",
     "This Agreement may be executed in counterparts, including by electronic signature, each of which is an "
     "original and all of which together are one instrument."),
]


def _nda_pdf() -> bytes:
    pdf = _Pdf()
    pdf.set_title("Mutual Non-Disclosure Agreement")
    pdf.set_author("Larkspur Analytics, Inc.")
    pdf.set_margins(72, 72, 72)
    pdf.set_auto_page_break(True, margin=80)
    pdf.add_page()
    pdf.line_text("MUTUAL NON-DISCLOSURE AGREEMENT", 16, "B", 26, align="C")
    pdf.ln(14)
    pdf.paragraph(
        "This Mutual Non-Disclosure Agreement (the \"Agreement\") is made as of March 4, 2024 (the \"Effective "
        "Date\") by and between Larkspur Analytics, Inc., a Delaware corporation, with offices at 88 Meridian "
        "Plaza, Wilmington, DE 19801 (\"Larkspur\"), and Copperfield Robotics LLC, a New York limited liability "
        "company, with offices at 410 Foundry Street, Brooklyn, NY 11201 (\"Copperfield\").", 11)
    pdf.paragraph("NOW, THEREFORE, in consideration of the mutual promises below, the parties agree as follows:", 11)
    for heading, body in NDA_SECTIONS:
        pdf.line_text(heading, 11, "B", 18)
        pdf.paragraph(body, 11, gap=9)
    # Signatures on the last page, together.
    pdf.add_page()
    pdf.paragraph("IN WITNESS WHEREOF, the parties have executed this Agreement as of the Effective Date.", 11, gap=30)
    for party, name, title in (("LARKSPUR ANALYTICS, INC.", "Eleanor V. Marsh", "Chief Executive Officer"),
                               ("COPPERFIELD ROBOTICS LLC", "Tobias R. Okafor", "Managing Member")):
        pdf.line_text(party, 11, "B", 20)
        pdf.ln(26)
        pdf.line_text("By: _________________________________", 11)
        pdf.line_text(f"Name: {name}", 11)
        pdf.line_text(f"Title: {title}", 11)
        pdf.line_text("Date: March 4, 2024", 11)
        pdf.ln(36)
    return bytes(pdf.output())


def _letter_pdf() -> bytes:
    pdf = _Pdf()
    pdf.set_title("Lease renewal")
    pdf.set_author("Ashgrove Property Management")
    pdf.set_margins(72, 64, 72)
    pdf.add_page()
    pdf.line_text("Ashgrove Property Management", 17, "B", 22)
    pdf.line_text("915 Linden Court, Floor 3  |  Madison, WI 53703  |  (608) 555-0139", 9.5)
    pdf.line_text("leasing@ashgrove.example", 9.5)
    pdf.ln(30)
    pdf.line_text("April 15, 2024", 11)
    pdf.ln(16)
    for line in ("Ms. Dana Whitlock", "27 Sycamore Street, Apt. 5B", "Madison, WI 53715"):
        pdf.line_text(line, 11)
    pdf.ln(16)
    pdf.line_text("Re: Renewal of your lease for 27 Sycamore Street, Apt. 5B", 11, "B")
    pdf.ln(10)
    pdf.paragraph("Dear Ms. Whitlock,", 11)
    pdf.paragraph(
        "Thank you for being a resident at Sycamore Commons. Your current lease ends on June 30, 2024, and we "
        "would be glad to have you stay. We are pleased to offer you a renewal for twelve months, from "
        "July 1, 2024 to June 30, 2025.", 11)
    pdf.paragraph(
        "The monthly rent for the renewal term will be $1,485.00, an increase of $35.00 over your current rent. "
        "All other terms of your lease remain the same. The security deposit we hold for you carries over.", 11)
    pdf.paragraph(
        "To accept this offer, please sign the enclosed renewal form and return it to our office by May 31, 2024. "
        "If you plan to move out at the end of your lease, please give us written notice by the same date.", 11)
    pdf.paragraph("If you have any questions, call us at (608) 555-0139 or write to leasing@ashgrove.example.", 11)
    pdf.paragraph("Sincerely,", 11, gap=30)
    pdf.line_text("Marisol Quintero", 11, "B")
    pdf.line_text("Leasing Manager, Ashgrove Property Management", 11)
    pdf.ln(20)
    pdf.line_text("Enclosure: Lease renewal form", 9.5)
    return bytes(pdf.output())


# ============================================================================ scans


def _font_file(bold: bool = False, mono: bool = False) -> Path | None:
    name = "DejaVuSansMono" if mono else "DejaVuSans"
    name += "-Bold.ttf" if bold else ".ttf"
    if (DEJAVU_DIR / name).is_file():
        return DEJAVU_DIR / name
    try:  # fontconfig knows other install locations
        listing = subprocess.run(["fc-list", ":", "file"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    for line in listing.splitlines():
        path = Path(line.split(":")[0].strip())
        if path.name == name:
            return path
    return None


def font(size: int, bold: bool = False, mono: bool = False) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    path = _font_file(bold, mono)
    if path is not None:
        return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size=size)


class _Sheet:
    """A white page at 300 dpi with a text cursor."""

    def __init__(self, size: tuple[int, int], margin: int = 200):
        self.image = Image.new("L", size, 255)
        self.draw = ImageDraw.Draw(self.image)
        self.margin = margin
        self.y = margin

    @property
    def right(self) -> int:
        return self.image.width - self.margin

    def text(self, text: str, size: int = 42, bold: bool = False, mono: bool = False, x: int | None = None,
             align: str = "left", gap: float = 1.45, advance: bool = True) -> None:
        face = font(size, bold, mono)
        if align == "right":
            x = (x if x is not None else self.right) - int(self.draw.textlength(text, font=face))
        elif align == "center":
            x = (self.image.width - int(self.draw.textlength(text, font=face))) // 2
        self.draw.text((x if x is not None else self.margin, self.y), text, fill=0, font=face)
        if advance:
            self.y += int(size * gap)

    def row(self, cells: list[tuple[str, int, str]], size: int = 40, bold: bool = False, mono: bool = False) -> None:
        """One line of cells: (text, x, "left"|"right"); x is the left or right edge."""
        for text, x, align in cells:
            self.text(text, size, bold, mono, x=x, align=align, advance=False)
        self.y += int(size * 1.45)

    def rule(self, width: int = 3, gap: int = 24) -> None:
        self.y += gap // 2
        self.draw.line((self.margin, self.y, self.right, self.y), fill=0, width=width)
        self.y += gap

    def skip(self, pixels: int) -> None:
        self.y += pixels


SPECKLES_PER_MEGAPIXEL = 30  # dust; much more and Tesseract starts dropping whole columns
RECEIPT_WIDTH, RECEIPT_COLUMNS = 720, 26  # px at 300 dpi (61 mm), characters per dashed rule
# (wider receipts leave such a gap between item and price that Tesseract drops the price column)


def _scanned(image: Image.Image, rng: random.Random, angle: float, paper: int = 255,
             blur: float = 0.0) -> Image.Image:
    """What a scanner or phone makes of a clean page: a little turned, a little dirty."""
    if paper < 255:
        image = image.point(lambda v: int(v * paper / 255))
    image = image.rotate(angle, resample=Image.Resampling.BICUBIC, expand=False, fillcolor=paper)
    draw = ImageDraw.Draw(image)
    for _ in range(image.width * image.height * SPECKLES_PER_MEGAPIXEL // 1_000_000):
        x, y = rng.randrange(image.width), rng.randrange(image.height)
        r = rng.choice((1, 1, 2, 3))
        draw.ellipse((x, y, x + r, y + r), fill=rng.randrange(40, 140))
    if blur:
        image = image.filter(ImageFilter.GaussianBlur(blur))
    return image


def _bilevel(image: Image.Image) -> Image.Image:
    return image.point(lambda v: 0 if v < 150 else 255).convert("1", dither=Image.Dither.NONE)


def _receipt(shop: list[str], when: str, items: list[tuple[str, str]], tax_rate: str, payment: list[str],
             footer: list[str], leaders: bool = False) -> Image.Image:
    """A till receipt. ``leaders`` fills the gap between an item and its price with dots, as
    many tills do (and without which Tesseract sometimes reads the price column as a picture)."""
    width, cols = RECEIPT_WIDTH, RECEIPT_COLUMNS

    def label(name: str, price: str) -> str:
        return f"{name} {'.' * max(0, cols - len(name) - len(price) - 2)}" if leaders else name

    sheet = _Sheet((width, 2200), margin=70)
    sheet.skip(20)
    sheet.text(shop[0], 52, bold=True, mono=True, align="center", gap=1.5)
    for line in shop[1:]:
        sheet.text(line, 36, mono=True, align="center")
    sheet.skip(20)
    sheet.text(when, 36, mono=True)
    sheet.text("-" * cols, 36, mono=True)
    subtotal = Decimal("0")
    for name, price in items:
        subtotal += Decimal(price)
        sheet.row([(label(name, price), sheet.margin, "left"), (money(Decimal(price)), sheet.right, "right")],
                  36, mono=True)
    sheet.text("-" * cols, 36, mono=True)
    tax = cents(subtotal * Decimal(tax_rate) / 100)
    sheet.row([(label("SUBTOTAL", money(subtotal)), sheet.margin, "left"), (money(subtotal), sheet.right, "right")],
              36, mono=True)
    sheet.row([(label(f"TAX {tax_rate}%", money(tax)), sheet.margin, "left"), (money(tax), sheet.right, "right")],
              36, mono=True)
    sheet.skip(6)
    sheet.row([("TOTAL", sheet.margin, "left"), (f"${money(subtotal + tax)}", sheet.right, "right")], 46,
              bold=True, mono=True)
    sheet.skip(20)
    for line in payment:
        sheet.text(line, 36, mono=True)
    sheet.skip(30)
    for line in footer:
        sheet.text(line, 36, mono=True, align="center")
    return sheet.image.crop((0, 0, width, sheet.y + 90))


def _receipt_greenleaf(rng: random.Random) -> bytes:
    image = _receipt(
        ["GREENLEAF MARKET", "1675 Orchard Lane", "Fairview, CA 94016", "Tel (415) 555-0182"],
        "Date: 05/18/2024   14:32",
        [("ORGANIC BANANAS", "2.49"), ("WHOLE MILK 1GAL", "4.29"), ("SOURDOUGH LOAF", "5.75"),
         ("CHEDDAR 8OZ", "4.99"), ("APPLES GALA 3LB", "6.48"), ("COFFEE BEANS 12OZ", "11.99")],
        "7.25", ["VISA ****4821", "AUTH 083214"], ["THANK YOU FOR SHOPPING", "STORE 014  LANE 3"], leaders=True,
    )
    # A phone photo: grey paper, turned a little, soft focus, JPEG.
    image = _scanned(image, rng, angle=1.3, paper=236, blur=0.7)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=72, dpi=(DPI, DPI), optimize=True)
    return buffer.getvalue()


def _receipt_corner_hardware(rng: random.Random) -> bytes:
    image = _receipt(
        ["CORNER HARDWARE", "& SUPPLY", "302 Main Street", "Millbrook, NY 12545"],
        "2024-05-22  09:17   REG 2",
        [("WOOD SCREWS #8 100PK", "7.98"), ("PAINT ROLLER 9IN", "6.49"), ("MASKING TAPE 2PK", "8.99"),
         ("LED BULB 60W 4PK", "12.97"), ("WORK GLOVES L", "14.50")],
        "8.125", ["CASH TENDERED   60.00", "CHANGE           5.33"], ["RETURNS WITHIN 30 DAYS", "WITH RECEIPT"],
    )
    image = _scanned(image, rng, angle=-0.8)
    buffer = io.BytesIO()
    _bilevel(image).convert("L").save(buffer, format="PNG", dpi=(DPI, DPI), optimize=True)
    return buffer.getvalue()


def _scanned_invoice(rng: random.Random) -> bytes:
    sheet = _Sheet(LETTER_PX, margin=220)
    sheet.text("Birchwood Facilities Services", 76, bold=True, gap=1.4)
    for line in ("4410 Elmstead Parkway", "Columbus, OH 43215", "Phone (614) 555-0163"):
        sheet.text(line, 42)
    sheet.y = 220
    sheet.text("INVOICE", 96, bold=True, align="right")
    sheet.skip(20)
    for label, value in (("Invoice No:", "BFS-10442"), ("Invoice Date:", "May 14, 2024"),
                         ("Due Date:", "June 13, 2024"), ("PO Number:", "PO-77120")):
        sheet.row([(label, 1450, "left"), (value, sheet.right, "right")], 42)
    sheet.skip(80)
    sheet.text("Bill To:", 42, bold=True)
    for line in ("Larkspur Analytics, Inc.", "88 Meridian Plaza", "Wilmington, DE 19801"):
        sheet.text(line, 42)
    sheet.skip(80)
    cols = [("Description", sheet.margin, "left"), ("Qty", 1350, "right"), ("Rate", 1750, "right"),
            ("Amount", sheet.right, "right")]
    sheet.row(cols, 42, bold=True)
    sheet.rule()
    subtotal = Decimal("0")
    for description, qty, rate in (("Office cleaning, May (weekly)", 4, "385.00"),
                                   ("Carpet deep clean, 2nd floor", 1, "640.00"),
                                   ("Window washing, exterior", 1, "475.00"),
                                   ("Restroom supplies restock", 3, "58.40")):
        amount = cents(Decimal(qty) * Decimal(rate))
        subtotal += amount
        sheet.row([(description, sheet.margin, "left"), (str(qty), 1350, "right"),
                   (money(Decimal(rate)), 1750, "right"), (money(amount), sheet.right, "right")], 42)
    sheet.rule()
    tax = cents(subtotal * Decimal("5.75") / 100)
    for label, value, bold in (("Subtotal", money(subtotal), False), ("Tax (5.75%)", money(tax), False),
                               ("TOTAL USD", f"${money(subtotal + tax)}", True)):
        sheet.row([(label, 1750, "right"), (value, sheet.right, "right")], 48 if bold else 42, bold=bold)
    sheet.skip(160)
    for line in ("Terms: Net 30. Make checks payable to Birchwood Facilities Services.",
                 "Questions about this invoice: accounts@birchwood.example"):
        sheet.text(line, 38)
    image = _bilevel(_scanned(sheet.image, rng, angle=0.6))
    buffer = io.BytesIO()
    image.save(buffer, format="PDF", resolution=DPI, title="Scanned invoice BFS-10442",
               creationDate=FIXED_TIME.timetuple(), modDate=FIXED_TIME.timetuple())
    return buffer.getvalue()


def _form_pages(rng: random.Random) -> list[Image.Image]:
    def field(sheet: _Sheet, label: str, value: str) -> None:
        sheet.text(label, 40, bold=True, advance=False)
        sheet.text(value, 44, x=900, advance=False)
        sheet.y += 52
        sheet.draw.line((880, sheet.y, sheet.right, sheet.y), fill=0, width=2)
        sheet.y += 40

    one = _Sheet(LETTER_PX, margin=220)
    one.text("COPPERFIELD ROBOTICS LLC", 48, bold=True, align="center")
    one.text("SUPPLIER REGISTRATION FORM", 72, bold=True, align="center", gap=1.6)
    one.text("Please complete all sections in BLOCK CAPITALS and return to procurement.", 38, align="center")
    one.rule(gap=50)
    one.text("Section A - Company details", 50, bold=True, gap=1.8)
    for label, value in (("Company name", "QUILLFEATHER STATIONERY CO."),
                         ("Street address", "2218 HARBOR VIEW ROAD, SUITE 400"),
                         ("City, state, ZIP", "PORTLAND, OR 97209"),
                         ("Telephone", "(503) 555-0147"),
                         ("E-mail", "BILLING@QUILLFEATHER.EXAMPLE"),
                         ("Tax ID (EIN)", "00-0000173"),
                         ("Year established", "2009")):
        field(one, label, value)
    one.skip(40)
    one.text("Section B - Contact person", 50, bold=True, gap=1.8)
    for label, value in (("Name", "HARRIET OSEI"), ("Position", "ACCOUNTS MANAGER"), ("Direct line", "(503) 555-0148")):
        field(one, label, value)
    one.skip(40)
    one.text("Type of supplier:   [X] Goods   [ ] Services   [ ] Both", 42)
    one.text("Page 1 of 2", 34, align="right", x=one.right)

    two = _Sheet(LETTER_PX, margin=220)
    two.text("SUPPLIER REGISTRATION FORM (continued)", 56, bold=True, gap=1.8)
    two.text("Section C - Bank details for payments", 50, bold=True, gap=1.8)
    for label, value in (("Bank name", "FIRST CASCADE BANK"), ("Account name", "QUILLFEATHER STATIONERY CO."),
                         ("Account number", "000123456"), ("Routing number", "999000111")):
        field(two, label, value)
    two.skip(40)
    two.text("Section D - Declaration", 50, bold=True, gap=1.8)
    for line in ("I confirm that the information given on this form is true and complete,",
                 "and I will notify Copperfield Robotics LLC of any change in writing."):
        two.text(line, 40)
    two.skip(60)
    for label, value in (("Signature", "H. Osei"), ("Name", "HARRIET OSEI"), ("Date", "06/20/2024")):
        field(two, label, value)
    two.skip(80)
    two.text("For office use only:  Vendor no. ________   Approved by ________", 38)
    two.text("Page 2 of 2", 34, align="right", x=two.right)
    return [_bilevel(_scanned(page.image, rng, angle=angle))
            for page, angle in ((one, -0.5), (two, 0.4))]


def _tiff(pages: list[Image.Image]) -> bytes:
    buffer = io.BytesIO()
    pages[0].save(buffer, format="TIFF", save_all=True, append_images=pages[1:], compression="group4",
                  dpi=(DPI, DPI))
    return buffer.getvalue()


# ============================================================================ all of them


def make_samples(out_dir: Path | str = OUT_DIR) -> list[Path]:
    """Write every sample into ``out_dir``; returns the paths written."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(SEED)  # one stream, consumed in a fixed order: same noise every run
    makers = {
        "invoice_quillfeather_QS-2024-0173.pdf": lambda: _invoice_pdf(INVOICE_QUILLFEATHER),
        "invoice_harrowgate_HPW-58812.pdf": lambda: _invoice_pdf(INVOICE_HARROWGATE),
        "contract_nda_larkspur_copperfield.pdf": _nda_pdf,
        "letter_ashgrove_lease_renewal.pdf": _letter_pdf,
        "receipt_greenleaf_market.jpg": lambda: _receipt_greenleaf(rng),
        "receipt_corner_hardware.png": lambda: _receipt_corner_hardware(rng),
        "scan_invoice_birchwood_BFS-10442.pdf": lambda: _scanned_invoice(rng),
        "scan_form_supplier_registration.tif": lambda: _tiff(_form_pages(rng)),
    }
    written = []
    for name, make in makers.items():
        path = out_dir / name
        path.write_bytes(make())
        written.append(path)
    return written


def main(argv: list[str]) -> None:
    out = Path(argv[1]) if len(argv) > 1 else OUT_DIR
    paths = make_samples(out)
    total = sum(p.stat().st_size for p in paths)
    for path in paths:
        print(f"{path.stat().st_size / 1024:8.1f} KB  {path}")
    print(f"{total / 1024:8.1f} KB  total ({len(paths)} files)")


if __name__ == "__main__":
    main(sys.argv)
