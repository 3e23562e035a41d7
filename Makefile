# Every target sets itself up first: on a fresh machine `make demo` or `make test` is enough.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.installed-bench
export PYSPARK_PYTHON := $(abspath $(PY))
export SPARK_LOCAL_IP ?= 127.0.0.1
export PIPELINES_CONF_DIR ?= $(abspath conf)
WAREHOUSE ?= warehouse

.PHONY: help setup demo tpch test test-slow browser test-cluster bench bench-small bench-fresh \
        bench-publish bench-sdp bench-scale bench-skew bench-quality lint package clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s $$'\t'

$(STAMP): pyproject.toml requirements.lock
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c requirements.lock -e '.[dev]'
	$(PY) -m pipelines.core.execution.session --warm   # resolve the Delta JARs from Maven Central once
	touch $(STAMP)

setup: $(STAMP)  ## create .venv, install pinned dependencies, fetch the Delta JARs

demo: setup  ## generate demo data and run the nightly pipeline for three dates
	WAREHOUSE=$(WAREHOUSE) bash scripts/demo.sh

test: setup  ## the default test suite (unit + integration on real Spark and Delta)
	$(PY) -m pytest -q

test-slow: setup browser  ## fault injection, long property suites, the report in a real browser
	$(PY) -m pytest -q -m slow -p no:cacheprovider

browser:  ## headless Chromium for the report's browser test (Debian's package; needs root)
	@command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium; }

test-cluster: setup  ## submit the reference pipeline to a local standalone cluster
	$(PY) -m pytest -q -m cluster -p no:cacheprovider

tpch: setup  ## TPC-H data (scale factor 0.01) and every TPC-H example pipeline, into $(WAREHOUSE)
	WAREHOUSE=$(WAREHOUSE) bash scripts/tpch.sh

$(BENCH_STAMP): $(STAMP)
	$(PY) -m pip install -q -c requirements.lock -e '.[dev,bench]'
	touch $(BENCH_STAMP)

bench: bench-small bench-fresh bench-publish bench-sdp bench-skew bench-scale  ## every ratio of docs/benchmarks.md (hours)
	$(PY) benchmarks/bench_pipeline.py

bench-small: setup  ## framework vs hand-written at 50,000 orders, one warm session
	$(PY) benchmarks/bench_pipeline.py --rows 50000 --repeats 5

bench-fresh: setup  ## the same, each run a fresh process (interpreter and JVM), as cron runs it
	$(PY) benchmarks/bench_pipeline.py --fresh --rows 50000 --repeats 3

bench-publish: setup  ## the framework's Delta publish vs a plain Parquet write
	$(PY) benchmarks/bench_publish.py

bench-sdp: $(BENCH_STAMP)  ## the framework vs Spark Declarative Pipelines (spark-pipelines)
	$(PY) benchmarks/bench_sdp.py

bench-scale: setup  ## time per row, driver heap and spill from 1M to 50M orders
	$(PY) benchmarks/bench_scale.py

bench-skew: setup  ## salted vs Spark defaults vs AQE off on skewed data
	$(PY) benchmarks/bench_skew.py

bench-quality: setup  ## cost of ten expectations vs the stage itself
	$(PY) benchmarks/bench_quality.py

lint: setup  ## ruff, the layer contracts (import-linter) and mypy on the framework
	$(VENV)/bin/ruff check pipelines transforms schemas tests benchmarks examples
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

package: setup  ## build the --py-files zip, conf and spark-submit flags into dist/
	$(VENV)/bin/pipelines package --out dist

clean:  ## remove the demo warehouse and build outputs
	rm -rf $(WAREHOUSE) dist build
