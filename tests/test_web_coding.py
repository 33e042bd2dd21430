"""Legal coding, the pure parts: the schema file and its rules, Bates numbers, QC sampling and
agreement, documents per hour, and the export formats byte for byte (the expected bytes are
written by hand from the format definitions, not produced by the code under test)."""

from __future__ import annotations

import csv
import io
import json

import pytest

from ecm.document import DocType, Document, FieldValue, Page
from web.coding.bates import assign_bates, bates, bates_pages, check_prefix
from web.coding.loadfiles import ExportRow, coding_csv, coding_json, dat_file, opt_file, parse_dat, privilege_log
from web.coding.qc import QcError, docs_per_hour, field_agreement, qc_sample
from web.coding.schema import (
    DEFAULT_SCHEMA_PATH, SchemaError, changes, load_schema, normalise_date, parse_form, parse_schema, prefill, validate,
)


@pytest.fixture(scope="module")
def schema():
    return load_schema()


def _valid(schema, **values):
    base = schema.empty() | {"document_type": "Letter", "page_count": 2, "responsiveness": "Responsive"}
    return base | values


# ----------------------------------------------------------------------------- schema


def test_default_schema_has_the_manual_fields(schema):
    assert DEFAULT_SCHEMA_PATH.suffix == ".toml"
    names = [f.name for f in schema.fields]
    for name in ("document_type", "document_date", "title", "author", "recipients", "cc", "organisations",
                 "page_count", "characteristics", "privilege", "privilege_basis", "responsiveness", "issues", "hot"):
        assert name in names
    assert {f.type for f in schema.fields} == {"text", "date", "picklist", "multi_picklist", "person_list",
                                               "boolean", "integer"}
    doc_type = schema.field("document_type")
    assert doc_type.choices[:3] == ("Letter", "Memo", "Email") and doc_type.shortcuts["Letter"] == "1"
    assert schema.field("privilege").choices == ("Not Privileged", "Attorney-Client", "Work Product",
                                                 "Partially Privileged")
    assert schema.field("responsiveness").choices == ("Responsive", "Non-Responsive", "Needs Further Review")
    assert schema.field("document_date").estimated and "document_date_estimated" in schema.names
    assert schema.empty()["privilege"] == "Not Privileged"


def test_a_valid_coding_has_no_errors(schema):
    assert validate(schema, _valid(schema)) == {}


def test_required_fields(schema):
    errors = validate(schema, schema.empty())
    assert set(errors) == {"document_type", "page_count", "responsiveness"}
    assert errors["document_type"] == "Document type is required."


def test_privilege_basis_is_required_when_privileged(schema):
    values = _valid(schema, privilege="Attorney-Client")
    errors = validate(schema, values)
    assert set(errors) == {"privilege_basis", "privilege_description"}
    assert "privilege basis" in errors["privilege_basis"]
    assert validate(schema, values | {"privilege_basis": "Legal advice from outside counsel",
                                      "privilege_description": "Letter seeking legal advice"}) == {}
    assert validate(schema, _valid(schema, privilege="Not Privileged")) == {}


def test_language_is_required_for_foreign_language_documents(schema):
    values = _valid(schema, characteristics=["Handwriting", "Foreign language"])
    assert set(validate(schema, values)) == {"foreign_language_name"}
    assert validate(schema, values | {"foreign_language_name": "German"}) == {}
    assert validate(schema, _valid(schema, characteristics=["Handwriting"])) == {}


def test_types_choices_and_ranges(schema):
    errors = validate(schema, _valid(schema, document_type="Memorandum", page_count=0, issues=["Nope"],
                                     document_date="2024-02-30", hot="yes", title="x" * 501))
    assert set(errors) == {"document_type", "page_count", "issues", "document_date", "hot", "title"}
    assert "choose one of Letter, Memo" in errors["document_type"]
    assert "at least 1" in errors["page_count"]


@pytest.mark.parametrize("text, expected", [
    ("2024-03-05", "2024-03-05"), ("2024-03", "2024-03-00"), ("1998", "1998-00-00"), ("1998-03-00", "1998-03-00"),
    ("1998-00-00", "1998-00-00"), ("1998-00-05", None), ("2024-02-30", None), ("2024-13-01", None),
    ("05/03/2024", None), ("", None), ("0999-01-01", None),
])
def test_dates_with_unknown_parts(text, expected):
    assert normalise_date(text) == expected


def test_parse_form_types_the_values(schema):
    form = {"document_type": ["Memo"], "document_date": ["2024-03"], "document_date_estimated": ["1"],
            "title": ["  Re:   the   lease "], "author": ["Smith, John\n\n Doe, Jane ; Roe, R"],
            "page_count": ["3"], "characteristics": ["Signature", "Handwriting"], "responsiveness": ["Responsive"],
            "privilege": ["Not Privileged"], "hot": ["1"], "issues": []}
    values, errors = parse_form(schema, form)
    assert errors == {}
    assert values["document_date"] == "2024-03-00" and values["document_date_estimated"] is True
    assert values["title"] == "Re: the lease"
    assert values["author"] == ["Smith, John", "Doe, Jane", "Roe, R"]
    assert values["characteristics"] == ["Handwriting", "Signature"]  # the schema's order
    assert values["page_count"] == 3 and values["hot"] is True and values["cc"] == []


def test_parse_form_reports_bad_input_and_keeps_it(schema):
    values, errors = parse_form(schema, {"document_type": ["Letter"], "page_count": ["three"],
                                         "responsiveness": ["Responsive"], "characteristics": ["<b>x</b>"]})
    assert values["page_count"] == "three" and "whole number" in errors["page_count"]
    assert "choose from the list" in errors["characteristics"]


def test_bad_schemas_are_refused_with_a_reason():
    field = {"name": "kind", "type": "picklist", "choices": ["A", "B"]}
    with pytest.raises(SchemaError, match="type 'colour'"):
        parse_schema({"fields": [{"name": "x", "type": "colour"}]})
    with pytest.raises(SchemaError, match="needs choices"):
        parse_schema({"fields": [{"name": "x", "type": "picklist"}]})
    with pytest.raises(SchemaError, match="share a shortcut"):
        parse_schema({"fields": [field | {"shortcuts": {"A": "1", "B": "1"}}]})
    with pytest.raises(SchemaError, match="not j or k"):
        parse_schema({"fields": [field | {"shortcuts": {"A": "j"}}]})
    with pytest.raises(SchemaError, match="must name fields"):
        parse_schema({"fields": [field], "rules": [{"field": "nope", "when": "kind", "equals": "A"}]})
    with pytest.raises(SchemaError, match="exactly one of"):
        parse_schema({"fields": [field], "rules": [{"field": "kind", "when": "kind"}]})


def test_the_schema_can_be_json_too(tmp_path):
    data = json.loads(json.dumps({"name": "tiny", "fields": [{"name": "flag", "type": "boolean"}]}))
    assert parse_schema(data).names == ["flag"]


def test_prefill_from_extraction(schema):
    doc = Document(source="a.pdf", sha256="0" * 64, doc_type=DocType(label="contract", confidence=0.9),
                   pages=[Page(number=n, width=1, height=1, unit="pt", source="text") for n in (1, 2, 3)],
                   fields={"title": FieldValue(value="Master  Services Agreement", confidence=0.9),
                           "effective_date": FieldValue(value="2024-01-15", confidence=0.9),
                           "parties": FieldValue(value=["Acme Ltd", "Bolt GmbH"], confidence=0.8)})
    values = prefill(schema, doc)
    assert values["document_type"] == "Contract"
    assert values["document_date"] == "2024-01-15" and values["title"] == "Master Services Agreement"
    assert values["organisations"] == ["Acme Ltd", "Bolt GmbH"] and values["page_count"] == 3
    assert values["author"] == [] and values["privilege"] == "Not Privileged"
    invoice = Document(source="i.pdf", sha256="0" * 64, doc_type=DocType(label="invoice", confidence=0.9),
                       fields={"vendor_name": FieldValue(value="Northwind", confidence=0.9),
                               "invoice_date": FieldValue(value="2023-12-01", confidence=0.9)})
    values = prefill(schema, invoice)
    assert (values["document_type"], values["document_date"], values["author"], values["organisations"]) == (
        "Invoice", "2023-12-01", ["Northwind"], ["Northwind"])
    assert values["page_count"] is None  # no pages: the coder counts


def test_changes_lists_only_what_changed(schema):
    old = _valid(schema)
    new = old | {"title": "New", "issues": ["Fraud"]}
    assert changes(schema, old, new) == {"title": ["", "New"], "issues": [[], ["Fraud"]]}
    assert changes(schema, old, old) == {}
    assert set(changes(schema, None, old)) == {"document_type", "page_count", "privilege", "responsiveness"}


# ----------------------------------------------------------------------------- Bates


def test_bates_assignment():
    assert bates("ABC", 1) == "ABC000001"
    assert assign_bates([3, 1, 0, 2], "ABC") == [("ABC000001", "ABC000003"), ("ABC000004", "ABC000004"),
                                                 ("ABC000005", "ABC000005"), ("ABC000006", "ABC000007")]
    assert assign_bates([2], "SMITH-", start=999_999, width=6) == [("SMITH-999999", "SMITH-1000000")]
    assert bates_pages("ABC000009", "ABC000011") == ["ABC000009", "ABC000010", "ABC000011"]
    assert check_prefix("ABC") is None and check_prefix("abc") and check_prefix("A B") and check_prefix("")


# ----------------------------------------------------------------------------- QC


def test_qc_sample_is_deterministic_sized_and_never_the_same_coder():
    docs = {"ann": [f"a{i}" for i in range(30)], "bob": [f"b{i}" for i in range(5)]}
    one = qc_sample(docs, 0.10, ["ann", "bob", "cy"], seed=42)
    assert one == qc_sample(docs, 0.10, ["cy", "bob", "ann"], seed=42)  # order of the pool does not matter
    assert sum(d.startswith("a") for d in one) == 3 and sum(d.startswith("b") for d in one) == 1  # ceil(10%)
    assert all(qc != ("ann" if d.startswith("a") else "bob") for d, qc in one.items())
    seeds = {tuple(sorted(qc_sample(docs, 0.1, ["cy"], seed=s))) for s in range(20)}
    assert len(seeds) > 1  # the seed matters
    assert qc_sample(docs, 0.0, [], seed=1) == {}
    assert len(qc_sample(docs, 1.0, ["cy"], seed=1)) == 35
    with pytest.raises(QcError, match="nobody checks their own work"):
        qc_sample({"ann": ["a1"]}, 0.5, ["ann"], seed=1)
    with pytest.raises(QcError):
        qc_sample({"ann": ["a1"]}, 1.5, ["bob"], seed=1)


def test_qc_sample_known_answer():
    # Pinned: a change to the sampling would silently change which documents every seeded batch checks.
    picked = qc_sample({"ann": [f"d{i}" for i in range(10)]}, 0.2, ["bob", "cy"], seed=7)
    assert picked == {"d1": "bob", "d7": "cy"}  # in batch order, QC coders in turn


def test_field_agreement():
    a = {"document_type": "Letter", "title": "Re:  Lease", "author": ["Smith, J", "Doe, J"], "cc": [],
         "hot": False, "privilege": "Not Privileged", "page_count": 2}
    b = {"document_type": "Memo", "title": "re: lease", "author": ["doe, j", "Smith, J"], "cc": [],
         "hot": True, "privilege": "Not Privileged", "page_count": 2}
    result = field_agreement(a, b, list(a))
    assert (result.compared, result.agreed) == (6, 4)  # cc empty in both: not counted
    assert result.disagreements == ("document_type", "hot") and result.rate == pytest.approx(4 / 6)
    assert field_agreement({}, {}, ["x"]).rate is None


def test_documents_per_hour_from_save_times():
    assert docs_per_hour([]) is None and docs_per_hour([100.0]) is None
    assert docs_per_hour([0, 60, 120, 180]) == pytest.approx(60.0)  # a document a minute
    # A 2-hour lunch between saves is a pause, not coding time.
    assert docs_per_hour([0, 120, 240, 240 + 7200, 240 + 7200 + 120]) == pytest.approx(30.0)
    assert docs_per_hour([300, 0, 150]) == pytest.approx(24.0)  # order does not matter


# ----------------------------------------------------------------------------- exports

SHA_A = "a" * 64
SHA_B = "b" * 64


def _rows() -> list[ExportRow]:
    letter = {"document_type": "Letter", "document_date": "2024-03-05", "document_date_estimated": False,
              "title": "Re: lease\nsecond line", "author": ["Smith, John"], "recipients": ["Doe, Jane", "Roe, Rick"],
              "cc": ["Poe, Ed"], "privilege": "Attorney-Client", "privilege_basis": "Legal advice",
              "privilege_description": "Letter requesting legal advice on the lease",
              "responsiveness": "Responsive", "issues": ["Payment terms", "Termination"]}
    invoice = {"document_type": "Invoice", "document_date": "2023-12-00", "document_date_estimated": True,
               "title": "=HYPERLINK(\"x\")", "author": [], "recipients": [], "cc": [],
               "privilege": "Not Privileged", "privilege_basis": "", "responsiveness": "Non-Responsive",
               "issues": []}
    return [ExportRow(doc_id="1" * 16, sha256=SHA_A, bates_begin="ABC000001", bates_end="ABC000003",
                      native_ext=".pdf", values=letter, coder="ann", version=2, saved_at="2024-05-01T10:00:00+00:00"),
            ExportRow(doc_id="2" * 16, sha256=SHA_B, bates_begin="ABC000004", bates_end="ABC000004",
                      native_ext=".png", values=invoice, coder="ann", version=3, saved_at="2024-05-01T10:01:00+00:00")]


def test_concordance_dat_byte_exact():
    q, d = "\u00fe", "\u0014"  # thorn text qualifier, DC4 field delimiter

    def line(*cells: str) -> str:
        return d.join(q + c + q for c in cells) + "\r\n"

    expected = ("\ufeff"
                + line("BEGBATES", "ENDBATES", "DOCTYPE", "DOCDATE", "TITLE", "AUTHOR", "RECIPIENTS", "CC",
                       "PRIVILEGE", "RESPONSIVENESS", "ISSUES", "SHA256", "NATIVE")
                + line("ABC000001", "ABC000003", "Letter", "20240305", "Re: lease\u00aesecond line", "Smith, John",
                       "Doe, Jane; Roe, Rick", "Poe, Ed", "Attorney-Client", "Responsive",
                       "Payment terms; Termination", SHA_A, "NATIVES\\ABC000001.pdf")
                + line("ABC000004", "ABC000004", "Invoice", "20231200", "=HYPERLINK(\"x\")", "", "", "",
                       "Not Privileged", "Non-Responsive", "", SHA_B, "NATIVES\\ABC000004.png"))
    data = dat_file(_rows())
    assert data == expected.encode("utf-8")
    assert data[:3] == b"\xef\xbb\xbf" and data[3:5] == b"\xc3\xbe" and b"\xc3\xbe\x14\xc3\xbe" in data
    records = parse_dat(data)
    assert [r["BEGBATES"] for r in records] == ["ABC000001", "ABC000004"]
    assert records[0]["TITLE"] == "Re: lease\nsecond line"


def test_dat_values_cannot_break_the_format():
    row = _rows()[1]
    nasty = ExportRow(**{**row.__dict__, "values": {**row.values, "title": "a\u0014b \u00fe c\r\nd"}})
    data = dat_file([nasty]).decode("utf-8")
    assert "\u00feab th c\u00aed\u00fe" in data
    assert parse_dat(data.encode())[0]["TITLE"] == "ab th c\nd"


def test_opticon_opt_byte_exact():
    expected = (b"ABC000001,VOL001,IMAGES\\ABC000001.tif,Y,,,3\r\n"
                b"ABC000002,VOL001,IMAGES\\ABC000002.tif,,,,\r\n"
                b"ABC000003,VOL001,IMAGES\\ABC000003.tif,,,,\r\n"
                b"ABC000004,VOL001,IMAGES\\ABC000004.tif,Y,,,1\r\n")
    assert opt_file(_rows()) == expected


def test_privilege_log_byte_exact():
    expected = ("\ufeff"
                "Bates Range,Date,Author,Recipients,Document Type,Privilege,Basis,Description\r\n"
                "ABC000001 - ABC000003,2024-03-05,\"Smith, John\",\"Doe, Jane; Roe, Rick; cc: Poe, Ed\",Letter,"
                "Attorney-Client,Legal advice,Letter requesting legal advice on the lease\r\n")
    assert privilege_log(_rows()) == expected.encode("utf-8")


def test_coding_csv_and_json(schema):
    data = coding_csv(_rows(), schema.names)
    assert data.startswith(b"\xef\xbb\xbfdoc_id,bates_begin,bates_end,sha256,coder,version,saved_at,document_type,")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0]["author"] == "Smith, John" and rows[0]["issues"] == "Payment terms; Termination"
    assert rows[1]["title"] == "'=HYPERLINK(\"x\")"  # never a formula in a spreadsheet
    assert rows[1]["document_date_estimated"] == "Y"
    doc = json.loads(coding_json(_rows(), {"batch": {"id": 1}}))
    assert doc["batch"] == {"id": 1} and doc["documents"][0]["coding"]["author"] == ["Smith, John"]
