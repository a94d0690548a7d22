# Two commands: `make run` (demo data -> build -> outputs) and `make test`.
# Both create .venv from the pinned requirements on first use, and install the
# project's own Python into it (editable: scripts/privseg and the plugin modules,
# see pyproject.toml); afterwards the stamp file makes them skip the install.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-requirements

.PHONY: run test lint clean browser

run: $(STAMP)
	$(BIN)/python scripts/pipeline.py run

test: lint browser
	$(BIN)/python -m pytest tests/python

# Python (ruff), SQL (sqlfluff: .sqlfluff, .sqlfluffignore) and YAML (yamllint: .yamllint).
# sqlfluff measures the lines of rendered SQL, and macro and generic-test files render to
# nothing: the last step holds every SQL source line to the same 100 characters.
# (sqlfluff's worker pool leaves a harmless "leaked semaphore" warning at exit: silenced.)
lint: $(STAMP)
	$(BIN)/ruff check scripts plugins tests/python
	$(BIN)/ruff format --check scripts plugins tests/python
	PYTHONWARNINGS=ignore::UserWarning:multiprocessing.resource_tracker \
		$(BIN)/sqlfluff lint models macros tests/dbt analyses --processes 2
	$(BIN)/yamllint --strict .
	@if grep -rnE --include='*.sql' '^.{101,}' models macros tests/dbt analyses; then \
		echo "make lint: the SQL lines above are longer than 100 characters"; exit 1; fi

# Headless Chromium for the browser tests of the HTML audit report (Debian package; CI runs
# as root on a clean machine). Only `make test` needs it, not `make run`.
browser:
	command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --editable .
	touch $@

clean:
	rm -rf target logs
