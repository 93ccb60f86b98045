# The contributors' commands the README gives:
#   make demo   start the lab, solve it as a learner would, grade it, show the report
#   make test   lint, type-check, build and install the wheel as a learner does, run every test,
#               then the engine-marked tests again on a modern engine (containerd image store) when
#               this machine can run one (scripts/modern-engine: Linux, root, Debian's debootstrap)
# MODERN=auto (default: that second pass when possible), required (fail when impossible), off.
VENV ?= .venv
MODERN ?= auto
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

.PHONY: demo test test-modern engine lint unit site serve clean-lab wheel installed

$(BIN)/labcheck: pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -e '.[test,site]'
	@# byte-compiled as a wheel install would be (PYTHONDONTWRITEBYTECODE would recompile every run)
	$(PY) -m compileall -q checker/labcheck
	@touch $@

engine:
	@scripts/ensure-tools
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

# the labcheck under test: the installed wheel (tests/installed.py)
UNDER_TEST = PATH="$(CURDIR)/$(BIN):$$PATH" NO_MKDOCS_2_WARNING=1 LABCHECK_BIN="$(CURDIR)/$(INSTALLED)" \
	LABCHECK_WHEEL="$$(ls $(CURDIR)/$(DIST)/labcheck-*.whl)"

test: lint engine installed
	@# buildx for the first engine's client too (--cli-plugins), as learners' Engine 23+ has it
	@if scripts/modern-engine check 2>/dev/null; then scripts/modern-engine prepare; \
	else echo "make test: no buildx from scripts/modern-engine for the first engine's client"; fi
	@$(UNDER_TEST) $(BIN)/pytest
	@case "$(MODERN)" in \
	  off) echo "make test: the modern-engine pass is off (MODERN=off)" ;; \
	  required) $(MAKE) --no-print-directory test-modern ;; \
	  *) if scripts/modern-engine check; then $(MAKE) --no-print-directory test-modern; \
	     else echo "make test: NOT run on a modern engine (the containerd image store most learners have):" \
	       "this machine cannot start one (above); the engine-marked tests ran on $$(v=$$(docker version \
	       --format '{{.Server.Version}}' 2>/dev/null) && echo "Docker $$v" || echo 'your engine') only"; fi ;; \
	esac

# The tests whose result depends on the learner's engine (marker `engine`), on Docker 26 with the
# containerd image store and buildx (scripts/modern-engine). Stops the engine if it started it.
test-modern: $(BIN)/labcheck engine installed
	@set -e; started=$$(date +%s); \
	if scripts/modern-engine status >/dev/null 2>&1; then ours=0; else ours=1; fi; \
	scripts/modern-engine start; \
	[ $$ours = 0 ] || trap 'scripts/modern-engine stop' EXIT; \
	echo "== engine-marked tests on $$(scripts/modern-engine status)"; \
	$(UNDER_TEST) $(BIN)/pytest -m engine --engine modern; \
	echo "make test-modern: passed in $$(( $$(date +%s) - started ))s"

unit: $(BIN)/labcheck
	$(BIN)/pytest -m "not docker and not browser"

site: $(BIN)/labcheck
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

serve: $(BIN)/labcheck
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve

clean-lab: $(BIN)/labcheck
	$(BIN)/labcheck down part7
