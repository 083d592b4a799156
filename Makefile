# paperfeed: `make run` serves the bundled sample, `make test` runs every check (both backends).
# Both create .venv, install what they need and export the embedding model on first use.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/pip install --quiet --disable-pip-version-check
STAMP := $(VENV)/.installed-dev
EXPORT_STAMP := $(VENV)/.installed-export
MODEL_DIR := data/models/all-minilm-l6-v2
MODEL := $(MODEL_DIR)/manifest.json
# KaTeX renders LaTeX in the browser; it is fetched from npm at build time and served by us.
KATEX_VERSION := 0.16.47
VENDOR := src/paperfeed/web/static/vendor
KATEX := $(VENDOR)/katex/katex.min.js

.PHONY: run test lint lock audit model static browser bench bench-ingest bench-embed bench-quality bench-latency bench-web bench-spike bench-recommend bench-trending bench-compose bench-deliver bench-load bench-keywords clean

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(PIP) -c requirements.lock -e '.[dev,postgres,thumbnails]'
	touch $@

# Pin what the dev and postgres extras resolve to now (after changing pyproject.toml).
lock: $(STAMP)
	$(BIN)/pip install --quiet --dry-run --ignore-installed --report build/lock.json -e '.[dev,postgres,thumbnails]'
	$(BIN)/python scripts/write_lock.py build/lock.json requirements.lock

# Known vulnerabilities in the locked dependencies (pip-audit; needs PyPI's JSON API).
audit: $(STAMP)
	scripts/audit.sh

# Build-time tools for the model export. torch goes first, on its own: otherwise
# sentence-transformers (a dependency of the model's package) pulls a CUDA build of a newer one.
$(EXPORT_STAMP): $(STAMP)
	$(PIP) torch==2.13.0
	$(PIP) -e '.[dev,postgres,thumbnails,export]'
	touch $@

$(MODEL): | $(EXPORT_STAMP)
	PAPERFEED_MODEL_DIR=$(MODEL_DIR) $(BIN)/paperfeed model export

model: $(MODEL)

$(KATEX):
	rm -rf build/npm && mkdir -p build/npm
	cd build/npm && npm pack --silent katex@$(KATEX_VERSION) > /dev/null
	tar -xzf build/npm/katex-$(KATEX_VERSION).tgz -C build/npm
	mkdir -p $(VENDOR)/katex/contrib $(VENDOR)/katex/fonts
	cp build/npm/package/dist/katex.min.css $(VENDOR)/katex/
	cp build/npm/package/dist/contrib/auto-render.min.js $(VENDOR)/katex/contrib/
	cp build/npm/package/dist/fonts/*.woff2 $(VENDOR)/katex/fonts/
	cp build/npm/package/dist/katex.min.js $(VENDOR)/katex/

static: $(KATEX)

# The browser tests drive Debian's Chromium; install it when it is missing (root or sudo).
browser:
	@command -v chromium > /dev/null || { \
	  echo "installing Chromium for the browser tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium > /dev/null; }

HOST ?= 127.0.0.1
PORT ?= 8000
# Development mode (the /outbox page, which shows sign-in links) only on a loopback address.
DEV := $(if $(filter 127.0.0.1 localhost ::1,$(HOST)),--dev,)

run: $(STAMP) $(MODEL) $(KATEX)
	$(BIN)/paperfeed ingest --sample
	$(BIN)/paperfeed serve $(DEV) --host $(HOST) --port $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

# Every store test runs on SQLite and on PostgreSQL: scripts/with-postgres.sh installs PostgreSQL
# 15 and pgvector when missing, starts a throwaway server on loopback for the run, and stops it.
test: lint audit $(MODEL) $(KATEX) browser
	scripts/with-postgres.sh $(BIN)/pytest --playwright

bench-ingest: $(STAMP)
	$(BIN)/python bench/ingest.py

# 50 readers for 60 s against one server on the bundled sample (SECONDS=600 for the soak run).
bench-load: $(MODEL)
	$(BIN)/python bench/load.py --seconds $(or $(SECONDS),60)

bench-embed: $(MODEL)
	$(BIN)/python bench/embed.py

# bench-quality, -latency, -web and -compose run on SQLite and on PostgreSQL:
# scripts/bench-postgres.sh starts the benchmark server (kept between runs) unless
# PAPERFEED_BENCH_POSTGRES_URL names one.
BENCH_POSTGRES = PAPERFEED_BENCH_POSTGRES_URL=$${PAPERFEED_BENCH_POSTGRES_URL:-$$(scripts/bench-postgres.sh start)}

bench-quality: $(MODEL)
	$(BENCH_POSTGRES) $(BIN)/python bench/search_quality.py

bench-latency: $(MODEL)
	$(BENCH_POSTGRES) $(BIN)/python bench/search_latency.py

bench-web: $(MODEL)
	$(BENCH_POSTGRES) $(BIN)/python bench/web_load.py

# Front-page spike under wrk: a minimal Starlette app as the reference rate, then paperfeed on the
# sample and on the 74,728-paper store (SQLite), 2 workers each. Needs wrk.
bench-spike: $(MODEL)
	$(BIN)/python bench/web_spike.py --seconds 8 --connections 16 --workers 2

bench-recommend: $(MODEL)
	$(BIN)/python bench/recommend_eval.py

# Keyphrases of 500 papers (arxiv-cs-daily when ../shared/data has it, else the sample): how
# often they occur in the paper's text, time per paper, and ten papers to read.
bench-keywords: $(MODEL)
	$(BIN)/python bench/keywords_eval.py

bench-trending: $(STAMP)
	$(BIN)/python bench/trending_replay.py

bench-compose: $(MODEL)
	$(BENCH_POSTGRES) $(BIN)/python bench/digest_compose.py

bench-deliver: $(STAMP)
	$(BIN)/python bench/digest_deliver.py

bench: bench-ingest bench-embed bench-quality bench-latency bench-web bench-trending bench-compose \
	bench-deliver

clean:
	rm -rf $(VENV) data build dist src/*.egg-info $(VENDOR)
