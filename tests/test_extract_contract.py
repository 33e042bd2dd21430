"""extract.contract: term, effective date and parties from synthetic contract text."""

from __future__ import annotations

from extract import extract
from extract.contract import _contract_rules, _party_name
from test_classify_synthetic import document, text_page


def _fields(*pages: str) -> dict:
    doc = extract(document([text_page(t, number=i + 1) for i, t in enumerate(pages)], "contract"))
    return {k: v.value for k, v in doc.fields.items()}


OPENING = ("MUTUAL NONDISCLOSURE AGREEMENT\nThis Mutual Nondisclosure Agreement (the \"Agreement\") is made as of "
           "April 2, 2019 by and between Larkspur Analytics, Inc. (\"Larkspur\") and Quillon Freight LLC "
           "(\"Quillon\").\n")


# ---------------------------------------------------------------- term

def test_a_survival_period_after_termination_is_not_the_term():
    f = _fields(OPENING + "7. Survival. Sections 3 and 4 shall survive any termination of this Agreement for a "
                "period of three (3) years from the date of termination.\n"
                "8. Records. During the term of this Agreement and for a period of one (1) year thereafter, "
                "each party will keep complete records.")
    assert "term" not in f


def test_covenant_periods_are_skipped_for_the_agreements_own_term():
    f = _fields(OPENING + "4. No Solicitation. For a period of one (1) year from the date hereof, neither party "
                "will solicit the other's employees.\n5. Standstill. For eighteen (18) months from the date of "
                "this Agreement, Quillon will not acquire any securities of Larkspur.\n"
                "9. Term. This Agreement shall expire two (2) years from the date hereof.")
    assert f["term"] == "P2Y"
    f = _fields(OPENING + "4. You agree that, for a period of two (2) years from the date hereof, neither you nor "
                "your affiliates will propose any business combination with Larkspur.")
    assert "term" not in f


def test_renewal_periods_are_not_the_term():
    f = _fields(OPENING + "3. The initial term of this Agreement is three (3) years. Thereafter it shall "
                "automatically renew for successive one (1) year periods unless either party gives notice.")
    assert f["term"] == "P3Y"
    f = _fields(OPENING + "3. The term of this Agreement may be extended for an additional two year period with "
                "the written consent of both parties.")
    assert "term" not in f


def test_a_term_ending_on_an_anniversary():
    f = _fields(OPENING + "12. Term. This Agreement shall continue until the third anniversary of the Effective "
                "Date, unless terminated earlier by written notice.")
    assert f["term"] == "P3Y"


def test_how_long_the_confidentiality_obligations_last_is_an_ndas_term():
    f = _fields(OPENING + "6. The Recipient's obligations of confidentiality hereunder shall expire five (5) years "
                "from the date of disclosure of the Confidential Information.")
    assert f["term"] == "P5Y"


def test_a_duration_defined_as_the_term_and_a_clause_number_glued_to_its_sentence():
    f = _fields(OPENING + "2. This Agreement shall apply to information disclosed for a period of eighteen (18) "
                "months following the Effective Date (the \"Term\").")
    assert f["term"] == "P18M"
    f = _fields(OPENING + "6.0 TERM; TERMINATION. 6.1This Agreement shall terminate one year after the date of "
                "this Agreement. 6.2 The obligations of the parties shall remain in effect and survive any such "
                "termination for a period of three (3) years from the date of this Agreement.")
    assert f["term"] == "P1Y"


def test_a_recurring_period_is_not_the_term():
    f = _fields(OPENING + "5. Revenue during each year of the term of the Agreement will be measured at the end "
                "of every three months after the Commencement Date.")
    assert "term" not in f


# ---------------------------------------------------------------- effective date

def test_a_referenced_agreements_date_gives_way_to_the_signature_date():
    f = _fields("CONFIDENTIALITY AGREEMENT\nIn connection with the Master Services Agreement, dated as of June 1, "
                "2015, between Larkspur Analytics, Inc. and Quillon Freight LLC, the parties agree as follows.\n"
                "1. Each party shall keep the other's information confidential.",
                "IN WITNESS WHEREOF, the parties have signed this Agreement.\nLARKSPUR ANALYTICS, INC.\n"
                "By: /s/ Dana Reyes\nName: Dana Reyes\nDate: March 3, 2016")
    assert f["effective_date"] == "2016-03-03"


def test_an_end_date_is_not_the_effective_date():
    f = _fields("ENDORSEMENT AGREEMENT\nThis Endorsement Agreement by and between Harbor Sports LLC (\"Harbor\") "
                "and Tomas Vela (\"Vela\").\n1. \"Contract Period\" means the period commencing upon execution of "
                "this Agreement and terminating on May 31, 2020.\n"
                "IN WITNESS WHEREOF, the parties execute this Agreement.\n/s/ Tomas Vela\n4/2/18\nDate")
    assert f["effective_date"] == "2018-04-02"
    f = _fields("ENDORSEMENT AGREEMENT\nThis Endorsement Agreement by and between Harbor Sports LLC (\"Harbor\") "
                "and Tomas Vela (\"Vela\").\n1. \"Contract Period\" means the period commencing upon execution of "
                "this Agreement and terminating on May 31, 2020.")
    assert "effective_date" not in f


def test_a_spaced_out_ordinal_day():
    f = _fields("NON-COMPETITION AGREEMENT\nThis Agreement is entered into this 24 th day of February, 2005 by and "
                "between Harbor Sports LLC and Tomas Vela.")
    assert f["effective_date"] == "2005-02-24"


def test_a_letters_date_outranks_a_signature_date():
    f = _fields("January 18, 2011\nQuillon Freight LLC\n12 Dock Road\nLadies and Gentlemen:\nYou have requested "
                "information about Larkspur Analytics, Inc.\n",
                "IN WITNESS WHEREOF, the parties have signed this letter.\nLARKSPUR ANALYTICS, INC.\n"
                "By: /s/ Dana Reyes\n5/8/11")
    assert f["effective_date"] == "2011-01-18"


# ---------------------------------------------------------------- parties

def test_a_letter_agreement_names_its_parties_in_the_signature_blocks():
    f = _fields("CONFIDENTIALITY AGREEMENT\nDecember 17, 2012\nQuillon Freight LLC\n12 Dock Road\nLadies and "
                "Gentlemen:\nIn connection with your consideration of a possible transaction, we will furnish you "
                "with certain information.\n",
                "3. You will use the information only to evaluate a transaction between you and the Company.\n"
                "Very truly yours,\nLarkspur Analytics, Inc.\nBy: /s/ Dana Reyes\nName: Dana Reyes\n"
                "CONFIRMED AND AGREED\nQuillon Freight LLC\nBy: /s/ Omar Haddad\nName: Omar Haddad")
    assert f["parties"] == ["Larkspur Analytics, Inc.", "Quillon Freight LLC"]


def test_three_parties_separated_by_commas():
    f = _fields("SUPPLY AGREEMENT\nThis Agreement is entered into as of May 1, 2020 among Alder Works Corporation, "
                "a Delaware corporation (the \"Seller\"), Birch Holdings Corporation, a Texas corporation (the "
                "\"Guarantor\") and Cedar Partners LLC, a Delaware limited liability company (the \"Buyer\").")
    assert f["parties"] == ["Alder Works Corporation", "Birch Holdings Corporation", "Cedar Partners LLC"]
    f = _fields("3-WAY NON-DISCLOSURE AGREEMENT\nThis Agreement is made as of May 1, 2020 among Red Oak, Inc. "
                "(\"Red Oak\"), located at 1 Main Street, Boston, MA 02110, Blue Pine LLC, located at 9 Elm Road, "
                "Austin, TX 78701 (\"Blue Pine\"), and Green Elm Corp. (\"Green Elm\").")
    assert f["parties"] == ["Red Oak, Inc.", "Blue Pine LLC", "Green Elm Corp."]


def test_party_names_end_where_their_description_begins():
    f = _fields("CONTENT LICENSE AGREEMENT\nThis Agreement is dated as of October 1, 2005 by and between Northwind "
                "(Canada) Ltd., an Ontario corporation (\"Northwind\"), and Pelican Media, Inc. a Georgia "
                "Corporation (\"Pelican\").")
    assert f["parties"] == ["Northwind (Canada) Ltd.", "Pelican Media, Inc."]
    f = _fields("INTELLECTUAL PROPERTY AGREEMENT\nThis Agreement is entered into as of November 20, 2007 by and "
                "between Granite Stanley & Co. Incorporated (\"Granite\") and Mosaic Index Inc. (\"Mosaic\").")
    assert f["parties"] == ["Granite Stanley & Co. Incorporated", "Mosaic Index Inc."]


def test_a_title_block_party_list_stops_at_the_opening_sentence():
    f = _fields("CAPITAL MAINTENANCE AGREEMENT BETWEEN GRANITE GROUP, INC. AND HARBOR LIFE INSURANCE COMPANY This "
                "Capital Maintenance Agreement (this \"Agreement\") is made as of February 18, 2014.")
    assert f["parties"] == ["GRANITE GROUP, INC.", "HARBOR LIFE INSURANCE COMPANY"]


def test_the_earliest_party_list_and_not_a_partys_staff():
    f = _fields("NON-DISCLOSURE AGREEMENT\nThis agreement is entered into this 16th day of March, 1999 by ACUMEN "
                "TOOLS, INC. (the \"DISCLOSING PARTY\") and ZETA SURGICAL, its PRINCIPALS, MANAGEMENT and STAFF "
                "(the \"RECEIVING PARTY\") for the purpose of negotiating any contract between the Disclosing "
                "Party and the Receiving Party.")
    assert f["parties"] == ["ACUMEN TOOLS, INC.", "ZETA SURGICAL"]


def test_a_company_that_spells_its_name_in_lower_case():
    f = _fields("INVENTION AGREEMENT\nThis Agreement effective as of May 23, 2000 is made between mDate.com, Inc., "
                "a Delaware corporation (the \"Company\"), and Jonas Pell (the \"Employee\").")
    assert f["parties"] == ["mDate.com, Inc.", "Jonas Pell"]


def test_a_bare_legal_suffix_is_not_a_name():
    cr = _contract_rules()
    assert _party_name("L.P", cr) is None
    assert _party_name("LLC", cr) is None
    assert _party_name("the Potbelly Corporation", cr) is None
    assert _party_name("Harbor Sports LLC", cr) == "Harbor Sports LLC"


# ---------------------------------------------------------------- governing law

def test_the_laws_of_a_place_shall_govern():
    f = _fields(OPENING + "11. The laws of the State of Indiana shall govern this Agreement and any dispute "
                "arising under it.")
    assert f["governing_law"] == "Indiana"


def test_a_party_role_is_not_a_place():
    f = _fields(OPENING + "11. This Agreement will be construed in accordance with the laws of Discloser and "
                "returned to Discloser upon request.")
    assert f.get("governing_law") != "Discloser"
