"""Classification and extraction accuracy on a folder in the layout of the dev data set.

Usage: ``python bench/accuracy.py DATA_DIR [--cache [DIR]] [--cv] [--json] [--out FILE]``

* ``--cache``: read pages from the page cache (``bench/build_cache.py``; default
  ``bench/.cache``) and run ``classify`` + ``extract`` in process. Without it, every document
  goes through ``ecm process --json`` (the real pipeline, OCR included).
* ``--cv``: also report 5-fold grouped cross-validated classification (needs the cache;
  a scan derivative is always in the fold of its original, see ``classify.cross_validate``).

Comparison rules: dates and amounts compare normalised (ISO date, Decimal); names, addresses,
titles and places compare case-, punctuation- and whitespace-insensitively; identifiers also
ignore spaces; parties compare as sets, each party counted (a true positive is a predicted party
equal to a gold one). A predicted field the gold lacks is a false positive; a gold field not
predicted (or predicted wrong) is a false negative. "lenient" additionally accepts names and
addresses within rapidfuzz ratio >= 90 of the gold (OCR slips), reported beside the strict one.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from collections import defaultdict
from decimal import Decimal, InvalidOperation
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from rapidfuzz import fuzz  # noqa: E402

from ecm.document import CONTRACT_FIELDS, DOC_TYPES, INVOICE_FIELDS  # noqa: E402

__all__ = ["evaluate", "same_value", "main"]

MICRO_INVOICE = ("vendor_name", "invoice_date", "total_amount", "vendor_address", "invoice_number")
MICRO_CONTRACT = ("parties", "effective_date", "governing_law", "term")
DATE_FIELDS = {"invoice_date", "due_date", "effective_date"}
AMOUNT_FIELDS = {"total_amount", "tax_amount"}
ID_FIELDS = {"invoice_number", "po_number"}
FUZZY_FIELDS = {"vendor_name", "vendor_address", "title", "governing_law"}


def _norm_text(value: str) -> str:
    return " ".join(re.sub(r"[^\w]+", " ", str(value).lower()).split())


def _amount(value) -> Decimal | None:
    try:
        return Decimal(str(value).replace(",", "")).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        return None


def same_value(field: str, pred, gold, lenient: bool = False) -> bool:
    if pred is None or gold is None:
        return False
    if field in AMOUNT_FIELDS:
        return _amount(pred) is not None and _amount(pred) == _amount(gold)
    if field in DATE_FIELDS or field in ("term", "currency"):
        return str(pred).strip().upper() == str(gold).strip().upper()
    if field in ID_FIELDS:
        return _norm_text(pred).replace(" ", "") == _norm_text(gold).replace(" ", "")
    a, b = _norm_text(pred), _norm_text(gold)
    if a == b:
        return True
    return lenient and field in FUZZY_FIELDS and fuzz.ratio(a, b) >= 90


def _party_counts(pred, gold, lenient: bool) -> tuple[int, int, int]:
    pred = [p for p in (pred or []) if p]
    gold = list(gold or [])
    unmatched = list(gold)
    tp = 0
    for p in pred:
        for g in unmatched:
            if _norm_text(p) == _norm_text(g) or (lenient and fuzz.ratio(_norm_text(p), _norm_text(g)) >= 90):
                unmatched.remove(g)
                tp += 1
                break
    return tp, len(pred) - tp, len(unmatched)


# ---------------------------------------------------------------- running the pipeline

def _predict_from_cache(data_dir: Path, cache_dir: Path) -> dict[str, dict]:
    from classify import classify
    from classify.corpus import cached_document, read_manifest
    from extract import extract

    out = {}
    for entry in read_manifest(data_dir):
        doc = extract(classify(cached_document(data_dir, entry, cache_dir)))
        out[entry.id] = doc.contract_line()
    return out


def _predict_with_cli(data_dir: Path) -> dict[str, dict]:
    from classify.corpus import read_manifest

    ecm = shutil.which("ecm") or str(REPO / ".venv" / "bin" / "ecm")
    entries = read_manifest(data_dir)
    out: dict[str, dict] = {}
    batch = 20
    for i in range(0, len(entries), batch):
        chunk = entries[i:i + batch]
        proc = subprocess.run([ecm, "process", *[str(data_dir / e.path) for e in chunk], "--json"],
                              capture_output=True, text=True)
        lines = [json.loads(l) for l in proc.stdout.splitlines() if l.strip().startswith("{")]
        by_source = {l.get("source"): l for l in lines}
        for e, line in zip(chunk, lines if len(lines) == len(chunk) else [None] * len(chunk)):
            out[e.id] = by_source.get(str(data_dir / e.path)) or line or {"status": "error"}
    return out


# ---------------------------------------------------------------- scoring

def _prf(tp: int, fp: int, fn: int) -> dict:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"tp": tp, "fp": fp, "fn": fn, "precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4)}


def _classification(golds: list[str], preds: list[str]) -> dict:
    labels = [l for l in DOC_TYPES if l in set(golds) | set(preds)]
    confusion = {g: {p: 0 for p in labels} for g in labels}
    for g, p in zip(golds, preds):
        confusion[g][p] += 1
    f1s = []
    for l in labels:
        tp = confusion[l][l]
        fp = sum(confusion[g][l] for g in labels) - tp
        fn = sum(confusion[l].values()) - tp
        f1s.append(_prf(tp, fp, fn)["f1"])
    acc = sum(g == p for g, p in zip(golds, preds)) / len(golds) if golds else 0.0
    gold_labels = [l for l in labels if l in set(golds)]
    macro = sum(f for l, f in zip(labels, f1s) if l in gold_labels) / len(gold_labels) if gold_labels else 0.0
    return {"n": len(golds), "accuracy": round(acc, 4), "macro_f1": round(macro, 4),
            "labels": labels, "confusion": confusion}


def collection(entry) -> str:
    """The folder a document comes from, derivatives with their originals (``docs/cuad-scan`` -> cuad)."""
    parts = entry.path.split("/")
    folder = parts[1] if len(parts) > 2 else parts[0]
    return folder.removesuffix("-scan")


def labelled_fields(entries) -> set[tuple[str, str]]:
    """(collection, field) pairs the gold labels at all: a source that never labels a field
    (SROIE: currency, tax; CUAD: term; Kleister: title) cannot say a prediction of it is wrong."""
    return {(collection(e), f) for e in entries for f in e.fields}


def field_correct(name: str, pred, gold) -> bool:
    """One field judged as a whole (parties: the same set of names)."""
    if name == "parties":
        if not pred or not gold:
            return False
        return sorted(_norm_text(p) for p in pred) == sorted(_norm_text(g) for g in gold)
    return same_value(name, pred, gold)


def evaluate(data_dir: Path, predictions: dict[str, dict]) -> dict:
    from classify.corpus import read_manifest

    entries = read_manifest(data_dir)
    labelled = labelled_fields(entries)
    golds, preds = [], []
    counts: dict[str, dict[str, dict[str, list[int]]]] = {}
    for mode in ("strict", "lenient", "labelled"):
        counts[mode] = defaultdict(lambda: defaultdict(lambda: [0, 0, 0]))
    for e in entries:
        line = predictions.get(e.id) or {}
        pred_label = (line.get("doc_type") or {}).get("label", "none")
        golds.append(e.doc_type)
        preds.append(pred_label if pred_label in DOC_TYPES else "other")
        fields = {k: v.get("value") for k, v in (line.get("fields") or {}).items()}
        names = INVOICE_FIELDS if e.doc_type in ("invoice", "receipt") else CONTRACT_FIELDS if e.doc_type == "contract" else ()
        for mode in ("strict", "lenient", "labelled"):
            lenient = mode == "lenient"
            for name in names:
                gold, pred = e.fields.get(name), fields.get(name)
                if mode == "labelled" and (collection(e), name) not in labelled:
                    continue
                c = counts[mode][e.doc_type][name]
                if name == "parties":
                    tp, fp, fn = _party_counts(pred, gold, lenient)
                    c[0] += tp; c[1] += fp; c[2] += fn
                    continue
                if pred is not None and gold is not None and same_value(name, pred, gold, lenient):
                    c[0] += 1
                else:
                    c[1] += pred is not None
                    c[2] += gold is not None
    report: dict = {"data_dir": str(data_dir), "classification": _classification(golds, preds),
                    "fields": {}, "micro_f1": {}}
    for mode in ("strict", "lenient", "labelled"):
        per_type = {t: {f: _prf(*c) for f, c in fs.items()} for t, fs in counts[mode].items()}
        report["fields"][mode] = per_type

        def micro(types, fields):
            tp = fp = fn = 0
            for t in types:
                for f in fields:
                    c = counts[mode][t][f]
                    tp += c[0]; fp += c[1]; fn += c[2]
            return _prf(tp, fp, fn)

        report["micro_f1"][mode] = {
            "invoice+receipt": micro(("invoice", "receipt"), MICRO_INVOICE),
            "invoice": micro(("invoice",), MICRO_INVOICE),
            "receipt": micro(("receipt",), MICRO_INVOICE),
            "contract": micro(("contract",), MICRO_CONTRACT),
        }
    report["errors"] = [
        {"id": e.id, "gold": e.doc_type, "pred": p} for e, p in zip(entries, preds) if p != e.doc_type
    ]
    return report


def _cross_validated(data_dir: Path, cache_dir: Path, folds: int) -> dict:
    from classify.training import cross_validate, folder_examples

    docs, labels, groups = folder_examples(data_dir, cache_dir)
    results = cross_validate(docs, labels, groups, folds=folds)
    out = _classification([g for g, _, _ in results], [p for _, p, _ in results])
    out["folds"] = folds
    out["errors"] = [{"id": d.id, "gold": g, "pred": p, "confidence": round(c, 3)}
                     for d, (g, p, c) in zip(docs, results) if g != p]
    return out


# ---------------------------------------------------------------- cross-validated extraction, calibration, STP

def _cv_pipeline(data_dir: Path, cache_dir: Path, folds: int, use_vendorbook: bool, seed: int = 0,
                 use_readings: bool = True) -> dict:
    """Classify + extract + validate every document with what the other folds taught:

    * the classifier is trained on the other folds (grouped: a scan sits with its original);
    * the VendorBook holds the other folds' invoices/receipts as a reviewer would have accepted
      them (their corrected values; in production: accepted documents from the store);
    * the archive's readings (``extract.consensus``) are the other folds' machine readings of
      vendor names and addresses, read without consensus (in production: every stored document);
    * field and class confidences are calibrated on the other folds' predictions.

    Returns per-document contract lines (calibrated) plus the raw rows used for calibration.
    """
    import warnings
    from datetime import date

    from sklearn.model_selection import StratifiedGroupKFold

    from classify import classify, train
    from classify.training import folder_examples
    from classify.corpus import read_manifest
    from extract import extract, validate
    from extract.calibration import Calibration
    from extract.consensus import Readings, raw_readings
    from extract.vendors import VendorBook

    entries = read_manifest(data_dir)
    docs, labels, groups = folder_examples(data_dir, cache_dir)
    labelled = labelled_fields(entries)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        splits = list(StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed).split(docs, labels, groups))
    raw: dict[int, object] = {}
    fold_of: dict[int, int] = {}
    books: dict[int, VendorBook | None] = {}
    for k, (train_idx, test_idx) in enumerate(splits):
        model = train((docs[i], labels[i]) for i in train_idx)
        book = None
        if use_vendorbook:
            book = VendorBook()
            for i in train_idx:
                if entries[i].doc_type in ("invoice", "receipt"):
                    book.learn(entries[i].fields, doc_id=entries[i].id)
        for i in test_idx:
            doc = classify(docs[i].model_copy(update={"status": "ok"}), model, calibrate=False)
            doc = extract(doc, vendors=book, calibration=Calibration.identity())
            doc = validate(doc, vendors=book, today=date.today())
            raw[i] = doc
            fold_of[i] = k
        books[k] = book
    if use_readings:
        for k in range(folds):
            readings = Readings()
            for i in (i for i in raw if fold_of[i] != k):
                readings.add_fields(raw_readings(raw[i]))
            for i in (i for i in raw if fold_of[i] == k):
                doc = raw[i].model_copy(update={"fields": {}, "problems": []})
                doc = extract(doc, vendors=books[k], calibration=Calibration.identity(), readings=readings)
                raw[i] = validate(doc, vendors=books[k], today=date.today())

    def rows(idx: list[int]):
        field_rows, class_rows = [], []
        for i in idx:
            doc, e = raw[i], entries[i]
            class_rows.append((doc.doc_type.confidence, doc.doc_type.label == e.doc_type))
            for name, fv in doc.fields.items():
                if (collection(e), name) not in labelled or doc.doc_type.label != e.doc_type:
                    continue
                method = fv.source.split(".", 1)[-1]
                field_rows.append((name, method, fv.confidence, field_correct(name, fv.value, e.fields.get(name))))
        return field_rows, class_rows

    calibrated: dict[int, object] = {}
    for k in range(folds):
        others = [i for i in raw if fold_of[i] != k]
        cal = Calibration.fit(*rows(others))
        for i in (i for i in raw if fold_of[i] == k):
            doc = raw[i]
            fields = {n: fv.model_copy(update={"confidence": cal.field(n, fv.source.split(".", 1)[-1], fv.confidence)})
                      for n, fv in doc.fields.items()}
            dt = doc.doc_type.model_copy(update={"confidence": cal.doc_class(doc.doc_type.confidence)})
            calibrated[i] = doc.model_copy(update={"fields": fields, "doc_type": dt})
    return {"entries": entries, "docs": [calibrated[i] for i in range(len(entries))],
            "raw_docs": [raw[i] for i in range(len(entries))], "rows": rows(list(raw)), "labelled": labelled}


def straight_through(entries, docs, labelled, thresholds=None, target: float = 0.98) -> dict:
    """For each threshold: share of documents needing no review, and how often the values of
    those documents (their type and every scorable field) are right."""
    from extract.review import needs_review

    thresholds = thresholds or [round(0.5 + 0.01 * i, 2) for i in range(50)]
    curve = []
    for t in thresholds:
        stp = right = total = 0
        for e, doc in zip(entries, docs):
            if needs_review(doc, t):
                continue
            stp += 1
            total += 1
            right += doc.doc_type.label == e.doc_type
            for name, fv in doc.fields.items():
                if (collection(e), name) in labelled:
                    total += 1
                    right += doc.doc_type.label == e.doc_type and field_correct(name, fv.value, e.fields.get(name))
        curve.append({"threshold": t, "stp": round(stp / len(docs), 4), "stp_docs": stp,
                      "auto_accepted_values": total, "accuracy": round(right / total, 4) if total else 1.0})
    ok = [c for c in curve if c["accuracy"] >= target and c["stp_docs"] > 0]
    chosen = min(ok, key=lambda c: c["threshold"]) if ok else None
    return {"target": target, "chosen": chosen, "curve": curve}


def _cv_extraction(data_dir: Path, cache_dir: Path, folds: int, write_calibration: bool,
                   use_readings: bool = True) -> dict:
    out = {}
    for use_book in (False, True):
        run = _cv_pipeline(data_dir, cache_dir, folds, use_book, use_readings=use_readings)
        preds = {e.id: d.contract_line() for e, d in zip(run["entries"], run["docs"])}
        report = evaluate(data_dir, preds)
        report["stp"] = straight_through(run["entries"], run["docs"], run["labelled"])
        report["predictions"] = preds
        report["review_reasons"] = _reason_counts(run["docs"], report["stp"]["chosen"])
        out["with_vendorbook" if use_book else "no_vendorbook"] = report
        if write_calibration and use_book:
            from extract.calibration import Calibration

            Calibration.fit(*run["rows"]).save()
    return out


def _reason_counts(docs, chosen) -> dict:
    """How often each kind of reason sends a document to review at the chosen threshold."""
    from collections import Counter

    from extract.review import needs_review

    if not chosen:
        return {}
    c: Counter = Counter()
    for d in docs:
        for r in needs_review(d, chosen["threshold"]):
            c[re.sub(r" '.*?'|\d+\.\d+|\d{4}-\d\d-\d\d", "", r).split(":")[0].split(",")[0].strip()] += 1
    return dict(c.most_common(15))


# ---------------------------------------------------------------- printing

def _print_classification(title: str, c: dict) -> None:
    print(f"\n== {title}: n={c['n']} accuracy={c['accuracy']:.4f} macro-F1={c['macro_f1']:.4f}")
    labels = c["labels"]
    print("gold \\ pred".ljust(12) + "".join(l[:8].rjust(9) for l in labels))
    for g in labels:
        print(g.ljust(12) + "".join(str(c["confusion"][g][p]).rjust(9) for p in labels))
    for e in c.get("errors", []):
        print(f"   miss: {e['id']} {e['gold']} -> {e['pred']}" + (f" ({e['confidence']})" if "confidence" in e else ""))


def _print_fields(report: dict) -> None:
    for t, fields in report["fields"]["strict"].items():
        print(f"\n== fields: {t}")
        print("field".ljust(16) + "P".rjust(7) + "R".rjust(7) + "F1".rjust(7) + "  tp/fp/fn" + "   lenient F1  labelled-only F1")
        for f, s in fields.items():
            lenient = report["fields"]["lenient"][t][f]["f1"]
            lab = report["fields"]["labelled"].get(t, {}).get(f)
            print(f"{f:16}{s['precision']:7.3f}{s['recall']:7.3f}{s['f1']:7.3f}  {s['tp']}/{s['fp']}/{s['fn']}".ljust(52)
                  + f"{lenient:.3f}" + (f"        {lab['f1']:.3f}" if lab else "        (unlabelled)"))
    print("\n== micro-F1 (strict / lenient / labelled-only)   labelled-only: fields a source never labels are not scored")
    for k, v in report["micro_f1"]["strict"].items():
        lab = report["micro_f1"]["labelled"][k]
        print(f"{k:18}{v['f1']:.4f} / {report['micro_f1']['lenient'][k]['f1']:.4f} / {lab['f1']:.4f}"
              f"   (strict P {v['precision']:.3f} R {v['recall']:.3f}; labelled P {lab['precision']:.3f} R {lab['recall']:.3f})")


def _print_stp(name: str, report: dict) -> None:
    stp = report["stp"]
    print(f"\n== straight-through processing ({name}): calibrated confidences, CV")
    print("threshold  STP   docs  auto-accepted values  accuracy")
    for c in stp["curve"]:
        if round(c["threshold"] * 100) % 5 == 0 or c is stp["chosen"]:
            mark = "  <- lowest threshold with accuracy >= %.2f" % stp["target"] if c is stp["chosen"] else ""
            print(f"{c['threshold']:9.2f} {c['stp']:5.3f} {c['stp_docs']:5d} {c['auto_accepted_values']:10d}"
                  f"           {c['accuracy']:.4f}{mark}")
    if stp["chosen"]:
        ch = stp["chosen"]
        print(f"KPI: STP {ch['stp']:.3f} ({ch['stp_docs']} documents) at threshold {ch['threshold']:.2f}, "
              f"auto-accepted values {ch['accuracy']:.4f} correct")
        print("review reasons at that threshold:", report.get("review_reasons"))
    else:
        best = max(stp["curve"], key=lambda c: (c["accuracy"] if c["stp_docs"] >= 10 else 0, c["stp"]))
        print(f"KPI: no threshold reaches {stp['target']:.2f} accuracy on auto-accepted values; best with >= 10 "
              f"documents: accuracy {best['accuracy']:.4f} at threshold {best['threshold']:.2f}, STP {best['stp']:.3f}")


def _print(report: dict) -> None:
    for name in ("no_vendorbook", "with_vendorbook"):
        if name in report.get("cv_extraction", {}):
            r = report["cv_extraction"][name]
            print(f"\n######## extraction, {report['cv']['folds']}-fold grouped CV, {name.replace('_', ' ')} "
                  "(classifier, VendorBook and calibration from the other folds)")
            _print_fields(r)
            _print_stp(name.replace("_", " "), r)
    if "cv" in report:
        _print_classification(f"classification, {report['cv']['folds']}-fold grouped CV", report["cv"])
    _print_classification("classification, shipped model (trained on this folder if it is dev)",
                          report["classification"])
    print("\n######## extraction with the shipped classifier (no VendorBook, shipped calibration)")
    _print_fields(report)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data_dir", type=Path)
    ap.add_argument("--cache", nargs="?", const=REPO / "bench" / ".cache", type=Path, default=None,
                    help="run classify+extract on cached pages (default cache: bench/.cache)")
    ap.add_argument("--cv", action="store_true", help="also cross-validate the classifier (needs --cache)")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--write-calibration", action="store_true",
                    help="with --cv: fit field/class calibration on the CV predictions and write extract/calibration.json")
    ap.add_argument("--no-consensus", action="store_true",
                    help="with --cv: extract without the archive's readings (extract.consensus)")
    ap.add_argument("--json", action="store_true", help="print the report as JSON")
    ap.add_argument("--out", type=Path, help="also write the JSON report and per-document predictions here")
    args = ap.parse_args(argv)
    if args.cache is not None:
        predictions = _predict_from_cache(args.data_dir, args.cache)
    else:
        predictions = _predict_with_cli(args.data_dir)
    report = evaluate(args.data_dir, predictions)
    if args.cv:
        if args.cache is None:
            ap.error("--cv needs --cache")
        report["cv"] = _cross_validated(args.data_dir, args.cache, args.folds)
        report["cv_extraction"] = _cv_extraction(args.data_dir, args.cache, args.folds, args.write_calibration,
                                                not args.no_consensus)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"report": report, "predictions": predictions}, indent=1, default=str))
    if args.json:
        print(json.dumps({k: v for k, v in report.items()}, indent=1, default=str))
    else:
        _print(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
