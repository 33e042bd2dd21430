"""Pipeline speed against plain Tesseract on the same pages, measured in the same run.

    python bench/speed.py DATA_DIR [--limit N] [--json]

1. ``ecm process --json`` over the data set's documents (wall clock, all stages).
2. The reference: the same pages the way a shell script would do it: ``pdftotext`` for pages
   with a text layer, ``pdftoppm -r 300 -gray`` + the ``tesseract`` CLI for the rest, as many
   processes as cores, ``OMP_THREAD_LIMIT=1``.
Prints pages/s of both and the ratio (pipeline time / reference time = the pipeline's overhead).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ecm.executor import available_cores  # noqa: E402

os.environ["OMP_THREAD_LIMIT"] = "1"
ECM = Path(sys.executable).parent / "ecm"


def manifest(data: Path, limit: int) -> list[Path]:
    lines = [json.loads(line) for line in (data / "manifest.jsonl").read_text().splitlines() if line.strip()]
    return [data / entry["path"] for entry in lines[: limit or None]]


def run_pipeline(files: list[Path]) -> tuple[float, list[dict]]:
    start = time.perf_counter()
    proc = subprocess.run([str(ECM), "process", "--json", *map(str, files)], capture_output=True, text=True, check=True)
    elapsed = time.perf_counter() - start
    return elapsed, [json.loads(line) for line in proc.stdout.splitlines()]


def _reference_page(task: tuple[Path, int, bool]) -> None:
    path, page, has_text = task
    if path.suffix.lower() != ".pdf":
        subprocess.run(["tesseract", str(path), "-", "tsv"], capture_output=True, check=False)
        return
    if has_text:
        subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), str(path), "-"], capture_output=True, check=False)
        return
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["pdftoppm", "-r", "300", "-gray", "-png", "-f", str(page), "-l", str(page), str(path), f"{tmp}/p"],
                       capture_output=True, check=False)
        for image in Path(tmp).glob("*.png"):
            subprocess.run(["tesseract", str(image), "-", "tsv"], capture_output=True, check=False)


def _text_pages(path: Path) -> list[bool]:
    """Per page: does it have a text layer (the same >= 20 characters rule as the pipeline)."""
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=False).stdout
    return [len("".join(page.split())) >= 20 for page in out.split("\f")[:-1]] or [False]


def run_reference(files: list[Path]) -> tuple[float, int, int]:
    tasks = []
    for path in files:
        if path.suffix.lower() == ".pdf":
            tasks += [(path, n, has_text) for n, has_text in enumerate(_text_pages(path), start=1)]
        else:
            tasks.append((path, 1, False))
    start = time.perf_counter()
    with ThreadPoolExecutor(available_cores()) as pool:
        list(pool.map(_reference_page, tasks))
    ocr_pages = sum(1 for _, _, has_text in tasks if not has_text)
    return time.perf_counter() - start, len(tasks), ocr_pages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", type=Path)
    parser.add_argument("--limit", type=int, default=0, help="only the first N documents of the manifest")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    files = manifest(args.data, args.limit)
    ref_seconds, ref_pages, ocr_pages = run_reference(files)
    seconds, lines = run_pipeline(files)
    pages = sum(line.get("pages", 0) for line in lines)
    result = {
        "documents": len(files), "pages": pages, "ocr_pages": ocr_pages, "cores": available_cores(),
        "pipeline_seconds": round(seconds, 1), "pipeline_pages_per_s": round(pages / seconds, 2),
        "reference_seconds": round(ref_seconds, 1), "reference_pages": ref_pages,
        "reference_pages_per_s": round(ref_pages / ref_seconds, 2),
        "overhead_ratio": round(seconds / ref_seconds, 2),
        "quarantined": sum(line["status"] == "quarantined" for line in lines),
    }
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:24} {value}")


if __name__ == "__main__":
    main()
