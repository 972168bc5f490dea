# edi837 — every target sets up .venv first, so a fresh clone needs only Python 3.11 and make.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The optional compiled build (mypyc) lives in a venv of its own; make test never uses it.
CVENV := .venv-compiled
CSTAMP := $(CVENV)/.installed

.PHONY: help demo test lint format typecheck pytest fuzz compiled test-compiled bench bench-batch bench-large docs docs-check check clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,spark]'
	touch $(STAMP)

demo: $(STAMP) ## Set up, then check every file in samples/ (exit 1 = findings, as intended)
	$(BIN)/edi837 check samples/*.837 || [ $$? -eq 1 ]

test: $(STAMP) lint typecheck pytest ## Set up, then ruff, mypy --strict and the whole test suite

lint: $(STAMP) ## ruff check and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP) ## Format the code with ruff
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: $(STAMP) ## mypy --strict over the package, tests and bench
	$(BIN)/mypy

pytest: $(STAMP) ## The test suite
	$(BIN)/pytest -q

fuzz: $(STAMP) ## The fuzz suite with 20x the examples of the test run, new ones each time
	EDI837_FUZZ=20 $(BIN)/pytest -q tests/test_fuzz.py

# A non-editable install: any change to the package makes it stale, not only the compiled modules.
$(CSTAMP): setup.py setup.cfg pyproject.toml $(shell find edi837 -name "*.py" -o -name "*.csv")
	$(PYTHON) -m venv $(CVENV)
	$(CVENV)/bin/python -m pip install --quiet --upgrade pip setuptools wheel 'mypy>=1.10'
	EDI837_COMPILE=1 $(CVENV)/bin/python -m pip install --quiet --no-build-isolation '.[dev]'
	rm -rf build
	touch $(CSTAMP)

compiled: $(CSTAMP) ## Build the optional compiled parse path (mypyc) into .venv-compiled (needs a C compiler)

# The suite runs on a copy of the tree with the compiled modules built in place, so that the
# editable install of .venv (and make test) never sees a compiled module.
CTREE := build/compiled-tree
test-compiled: $(STAMP) ## The whole test suite against the compiled build (needs a C compiler)
	rm -rf $(CTREE) && mkdir -p $(CTREE)
	git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t $(CTREE)
	ln -s $(CURDIR)/$(VENV) $(CTREE)/$(VENV)
	cd $(CTREE) && EDI837_COMPILE=1 $(CURDIR)/$(BIN)/python setup.py -q build_ext --inplace
	cd $(CTREE) && PYTHONPATH=$(CURDIR)/$(CTREE) EDI837_CORPUS=$(abspath ../shared/corpus) \
		$(CURDIR)/$(BIN)/python -m pytest -q -p no:cacheprovider

bench: $(STAMP) ## Generate 1k/10k/100k-claim and mix files; print speed ratios, claims/s, peak memory; batch and Spark rows
	$(BIN)/python -m pip install --quiet 'x12sdk' || echo "x12sdk not installable; its column is skipped"
	$(MAKE) compiled || echo "compiled build failed; its parse and check rows are skipped"
	$(BIN)/python bench/run.py
	$(BIN)/python bench/batch_bench.py
	$(BIN)/python bench/spark_bench.py

bench-batch: $(STAMP) ## edi837 batch with --jobs 1 and 2: 200 files, and one cut 100k-claim file
	$(BIN)/python bench/batch_bench.py

bench-large: $(STAMP) ## make bench plus the 1M-claim file (about 400 MB in bench/out)
	$(BIN)/python bench/run.py --huge --skip-slow

docs: $(STAMP) ## Regenerate docs/rules.md, docs/acks.md and the README's terminal examples
	$(BIN)/python -m edi837.rules.docs > docs/rules.md
	$(BIN)/python -m edi837.acks.docs
	$(BIN)/python -m edi837.causes > docs/root-causes.md
	$(BIN)/python -m tests.readme_examples

docs-check: $(STAMP) ## Fail when docs/rules.md is out of date
	$(BIN)/python -m edi837.rules.docs | diff -u docs/rules.md -

check: test ## Alias of test

clean: ## Remove the virtual environment and caches
	rm -rf $(VENV) $(CVENV) build .mypy_cache .ruff_cache .pytest_cache bench/out
