# `make run` (demo data -> build -> outputs) and `make test`; `make dashboard` serves Superset
# on the publication and `make test-bi` tests that tier. They create .venv from the pinned
# requirements on first use, and install the project's own Python into it (editable:
# scripts/privseg and the plugin modules, see pyproject.toml); Superset gets its own
# .venv-superset from its own lock file. Stamp files skip the install later.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-requirements

SUPERSET_VENV := .venv-superset
SUPERSET_STAMP := $(SUPERSET_VENV)/.installed-lock

SPARK_VENV := .venv-spark
SPARK_STAMP := $(SPARK_VENV)/.installed-requirements

.PHONY: run test lint clean browser dashboard test-bi test-faults test-spark

# WAIT=SECONDS: when another run holds the warehouse, wait up to that long (else exit 2).
run: $(STAMP)
	$(BIN)/python scripts/pipeline.py run $(if $(WAIT),--wait $(WAIT))

test: lint browser
	$(BIN)/python -m pytest tests/python

# The fault tier: 30 failure cases (bad raw input, time, full disk, memory, key, killed and
# concurrent runs), each an end-to-end run on a copy of one small published demo state. Not part
# of `make test` (about 12 minutes on 2 idle cores); CI runs it. Mounting the small filesystems of the
# disk-full cases needs root (they skip otherwise).
test-faults: $(STAMP)
	$(BIN)/python -m pytest tests/python/faults

# Python (ruff), SQL (sqlfluff: .sqlfluff, .sqlfluffignore) and YAML (yamllint: .yamllint).
# sqlfluff measures the lines of rendered SQL, and macro and generic-test files render to
# nothing: the last step holds every SQL source line to the same 100 characters.
# (sqlfluff's worker pool leaves a harmless "leaked semaphore" warning at exit: silenced.)
lint: $(STAMP)
	$(BIN)/ruff check scripts plugins tests/python tests/bi tests/spark
	$(BIN)/ruff format --check scripts plugins tests/python tests/bi tests/spark
	PYTHONWARNINGS=ignore::UserWarning:multiprocessing.resource_tracker \
		$(BIN)/sqlfluff lint models macros tests/dbt analyses --processes 2
	$(BIN)/yamllint --strict .
	@if grep -rnE --include='*.sql' '^.{101,}' models macros tests/dbt analyses; then \
		echo "make lint: the SQL lines above are longer than 100 characters"; exit 1; fi

# Headless Chromium for the browser tests of the HTML audit report (Debian package; CI runs
# as root on a clean machine). Only `make test` needs it, not `make run`.
browser:
	command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)

# Apache Superset on the publication (after `make run`): its own venv from its own lock file,
# set up and served on http://127.0.0.1:8088/ (see docs/bi.md).
dashboard: $(STAMP)
	$(BIN)/python scripts/superset_dashboard.py check
	$(MAKE) --no-print-directory $(SUPERSET_STAMP)
	$(BIN)/python scripts/superset_dashboard.py run

# The BI tier: DuckDB 1.x clients read the publication, Superset serves the dashboard to
# headless Chromium. Not part of `make test` (it installs Superset); CI runs both. `make lint`
# covers tests/bi. One pytest process: the tests share one Superset server.
test-bi: $(STAMP) $(SUPERSET_STAMP) browser
	$(BIN)/python -m pytest tests/bi -n 0

# The Spark tier (docs/spark.md): a Spark build and a DuckDB build of the models ported to Spark
# (selector `spark`) on the same data and key, compared row for row, and the key leak scan over
# everything Spark wrote. Its own venv from requirements-spark.txt (pyspark, dbt-spark; Java 17);
# not part of `make test`. One pytest process: one Spark session at a time.
test-spark: $(SPARK_STAMP)
	$(SPARK_VENV)/bin/python -m pytest tests/spark -n 0

$(SPARK_STAMP): requirements.txt requirements-spark.txt pyproject.toml
	test -x $(SPARK_VENV)/bin/python || $(PYTHON) -m venv $(SPARK_VENV)
	$(SPARK_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-spark.txt
	$(SPARK_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --no-deps --editable .
	touch $@

$(SUPERSET_STAMP): bi/superset/requirements.lock
	test -x $(SUPERSET_VENV)/bin/python || $(PYTHON) -m venv $(SUPERSET_VENV)
	$(SUPERSET_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r bi/superset/requirements.lock
	touch $@

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --editable .
	touch $@

clean:
	rm -rf target logs
