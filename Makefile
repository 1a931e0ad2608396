# The two commands that matter: `make up` (the whole stack, embedded) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PACKAGES := shared $(patsubst %/pyproject.toml,%,$(wildcard services/*/pyproject.toml))
SOURCES := shared/src/jinlin $(filter-out %.egg-info,$(wildcard services/*/src/*))
INSTALLED := $(VENV)/.installed
PYTEST_WORKERS ?= 2

.PHONY: up demo test lint format bench install clean contracts soak

$(INSTALLED): constraints.txt $(addsuffix /pyproject.toml,$(PACKAGES))
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade "pip==26.3"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt \
		-e "./shared[test]" $(foreach p,$(filter-out shared,$(PACKAGES)),-e ./$(p))
	@touch $@

install: $(INSTALLED)

up: $(INSTALLED)
	$(BIN)/jinlin up

# The stack (as `make up`), then the Jinyuan Huating handover played through the services' APIs; the stack keeps
# running with the case's timeline in the console until Ctrl-C. Against a stack already running, it only plays.
demo: $(INSTALLED)
	$(BIN)/jinlin demo --up

contracts: $(INSTALLED)
	for service in complaints mediation billing-escrow; do $(BIN)/python -m jinlin.contracts $$service; done

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy $(SOURCES)

format: $(INSTALLED)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# The browser tests drive Debian's Chromium (a test tool's own browser download cannot work here); the CJK fonts
# make the screenshots readable.
BROWSER := /usr/bin/chromium
$(BROWSER):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null

test: lint $(BROWSER)
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile

# The benchmark suite (not part of `make test`): writes docs/benchmarks.md and its plots. ~20 minutes (stores of 10k,
# 100k and 1M events); BENCH_QUICK=1 for a ~2-minute smoke run. wrk, the HTTP load generator, comes from Debian's
# packages.
bench: $(INSTALLED)
	@command -v wrk >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null)
	$(BIN)/python -m bench.run

# The fault suite of `make test` (tests/faults) with bigger numbers: more clients, longer and more frequent faults,
# more fuzzing examples. Tens of minutes.
soak: $(INSTALLED)
	JINLIN_SOAK=1 $(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile --timeout 3600 tests/faults

clean:
	rm -rf $(VENV) var
