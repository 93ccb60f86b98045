# The contributors' commands the README gives:
#   make demo   start the lab, solve it as a learner would, grade it, show the report
#   make test   lint, type-check, build and install the wheel as a learner does, run every test
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
# What a learner gets: the sdist, the wheel built from it, installed with pipx into a clean
# virtual environment (no extras, not editable). Tests of learner workflows run this labcheck.
DIST := dist
PIPX := PIPX_HOME=$(CURDIR)/.pipx/home PIPX_BIN_DIR=$(CURDIR)/.pipx/bin PIPX_MAN_DIR=$(CURDIR)/.pipx/man $(BIN)/pipx
INSTALLED := .pipx/bin/labcheck
PACKAGED := $(shell git ls-files checker labs solutions hatch_build.py 2>/dev/null)
# The course site ships in the wheel (hatch_build.py puts public/ at labcheck/_data/site).
SITE_SOURCES := $(shell git ls-files site site_hooks mkdocs.yml labs 2>/dev/null)

.PHONY: demo test engine lint unit site serve clean-lab wheel installed

$(BIN)/labcheck: pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -e '.[test,site]'
	@# byte-compiled as a wheel install would be (PYTHONDONTWRITEBYTECODE would recompile every run)
	$(PY) -m compileall -q checker/labcheck
	@touch $@

engine:
	@scripts/ensure-docker
	@scripts/offline-images

demo: $(BIN)/labcheck engine
	@PATH="$(CURDIR)/$(BIN):$$PATH" scripts/demo

lint: $(BIN)/labcheck
	$(BIN)/ruff check checker tests site_hooks scripts/site-commands scripts/record-watch bench hatch_build.py
	$(BIN)/ruff format --check checker tests site_hooks bench hatch_build.py
	$(BIN)/mypy

public/index.html: $(SITE_SOURCES) | $(BIN)/labcheck
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

$(DIST)/.built: pyproject.toml $(PACKAGED) public/index.html | $(BIN)/labcheck
	rm -rf $(DIST)
	$(PY) -m build -q -o $(DIST) . >/dev/null   # the sdist, then the wheel built from the sdist (site included)
	@touch $@

wheel: $(DIST)/.built

$(INSTALLED): $(DIST)/.built
	$(PIPX) install -q --force $$(ls $(DIST)/labcheck-*.whl)
	@touch $@

installed: $(INSTALLED)

test: lint engine installed
	@PATH="$(CURDIR)/$(BIN):$$PATH" NO_MKDOCS_2_WARNING=1 LABCHECK_BIN="$(CURDIR)/$(INSTALLED)" \
		LABCHECK_WHEEL="$$(ls $(CURDIR)/$(DIST)/labcheck-*.whl)" $(BIN)/pytest

unit: $(BIN)/labcheck
	$(BIN)/pytest -m "not docker and not browser"

site: $(BIN)/labcheck
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

serve: $(BIN)/labcheck
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve

clean-lab: $(BIN)/labcheck
	$(BIN)/labcheck down part7
