# bayescale: set-up and the two everyday commands.
#   make demo   fit the bundled three-seed data and print the summary (outputs in out/demo)
#   make test   run the test suite (the same command CI runs)
#   make docs   build the documentation site into docs/_build/html (warnings are errors)
# Both create the virtual environment .venv with a Python >= 3.12 found by
# scripts/find-python.sh (set PYTHON=/path/to/python3.12 to choose one).

VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DOCS_STAMP := $(VENV)/.installed-docs
# two workers, each test file on one of them (a file's shared fits are made once)
PYTEST_ARGS ?= -m "not slow" --durations=15 -n 2 --dist loadfile

.PHONY: demo test test-slow lint docs venv clean

venv: $(STAMP)

$(BIN)/python:
	@PY="$$(scripts/find-python.sh)" && echo "creating $(VENV) with $$PY" && "$$PY" -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/bayescale fit bayescale/data/examples/scalerl_3seeds.csv --x gpu_hours --y pass_rate --run seed \
		--min-x 1500 --max-x 50000 --predict 100000 200000 --target 0.55 0.6 \
		--seed 1 --out out/demo --overwrite

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-slow: $(STAMP)
	$(BIN)/python -m pytest -m slow

$(DOCS_STAMP): pyproject.toml | $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[docs]"
	@touch $(DOCS_STAMP)

docs: $(DOCS_STAMP)
	$(BIN)/python -m sphinx -W --keep-going -q -b html docs docs/_build/html
	@echo "docs: open docs/_build/html/index.html"

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) out docs/_build docs/generated docs/cli.md
