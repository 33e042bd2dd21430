# ecm: the two commands are `make run` and `make test`; both start with `make install`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
ECM_HOME ?= $(CURDIR)/ecm-data
DATA ?= ../shared/data
APT_PACKAGES := tesseract-ocr tesseract-ocr-eng tesseract-ocr-osd poppler-utils qpdf redis-server chromium chromium-driver libgl1 libglib2.0-0
export OMP_THREAD_LIMIT := 1

.PHONY: install system-packages run test bench bench-accuracy bench-speed bench-search bench-search-es bench-ingest bench-web clean help

help:
	@echo "make install         apt packages + .venv + the project (.venv/bin/ecm)"
	@echo "make run             install, ingest samples/documents into ECM_HOME, serve the web UI on 127.0.0.1:8000"
	@echo "make test            install, then the whole test suite"
	@echo "make bench-accuracy  classification + field F1 on DATA (default ../shared/data)"
	@echo "make bench-speed     pages/s of the pipeline vs plain tesseract on the same pages"
	@echo "make bench-search    index/query latency on synthetic documents (embedded; bench-search-es: Elasticsearch-API server)"
	@echo "make bench-ingest    store+index throughput: fs vs S3, embedded vs Elasticsearch (servers started by the bench)"
	@echo "make bench-web       server time of the search page and document view on 100,000 documents"

install: system-packages $(VENV)/.installed

system-packages:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO="sudo"; \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q $$missing; \
	fi

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]' --config-settings editable_mode=compat
	touch $@

run: install
	ECM_HOME=$(ECM_HOME) $(BIN)/ecm ingest samples/documents
	ECM_HOME=$(ECM_HOME) $(BIN)/ecm serve

test: install
	$(BIN)/python -m pytest -q -p no:cacheprovider

bench: bench-accuracy bench-speed

bench-accuracy: install
	$(BIN)/python bench/build_cache.py $(DATA)
	$(BIN)/python bench/accuracy.py $(DATA) --cache --cv

bench-speed: install
	$(BIN)/python bench/speed.py $(DATA)

bench-search: install
	$(BIN)/python bench/search_bench.py --docs 100000

bench-search-es: install
	$(BIN)/python bench/search_bench.py --backend elasticsearch --docs 10000

bench-ingest: install
	$(BIN)/python bench/ingest_bench.py --docs 300

bench-web: install
	$(BIN)/python bench/web_bench.py --docs 100000

clean:
	rm -rf $(VENV) ecm-data *.egg-info
