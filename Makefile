# The two commands the README starts with:
#   make demo   start the lab, solve it as a learner would, grade it, show the report
#   make test   lint, type-check and run every test (unit, real registry:2, browser)
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin

.PHONY: demo test engine lint unit site serve clean-lab

$(BIN)/labcheck: pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -e '.[test,site,ecr]'
	@# byte-compiled as a wheel install would be (PYTHONDONTWRITEBYTECODE would recompile every run)
	$(PY) -m compileall -q checker/labcheck
	@touch $@

engine:
	@scripts/ensure-docker
	@scripts/offline-images

demo: $(BIN)/labcheck engine
	@PATH="$(CURDIR)/$(BIN):$$PATH" scripts/demo

lint: $(BIN)/labcheck
	$(BIN)/ruff check checker tests site_hooks scripts/site-commands bench
	$(BIN)/ruff format --check checker tests site_hooks bench
	$(BIN)/mypy

test: lint engine
	@PATH="$(CURDIR)/$(BIN):$$PATH" NO_MKDOCS_2_WARNING=1 $(BIN)/pytest

unit: $(BIN)/labcheck
	$(BIN)/pytest -m "not docker and not browser"

site: $(BIN)/labcheck
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

serve: $(BIN)/labcheck
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve

clean-lab: $(BIN)/labcheck
	$(BIN)/labcheck down part7
