# The quick-start commands: `make demo`, `make test`, `make serve`; each creates .venv on first
# use. `make demo` installs only qimage and its dependencies, `make test` adds the test tools and
# the cross-checked frameworks (the dev extra).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_STAMP := $(VENV)/.installed-demo

.PHONY: demo test serve lint bench venv clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(DEMO_STAMP): pyproject.toml constraints-cpu.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -c constraints-cpu.txt -e .
	touch $(DEMO_STAMP)

# The dev extra holds everything the demo needs, so it satisfies the demo's stamp too.
$(STAMP): pyproject.toml constraints-cpu.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -c constraints-cpu.txt -e '.[dev]'
	touch $(STAMP) $(DEMO_STAMP)

venv: $(STAMP)

demo: $(DEMO_STAMP)
	$(BIN)/qimage train

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

serve: $(STAMP)
	$(BIN)/qimage serve --open

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(STAMP)
	$(BIN)/python benchmarks/simulator.py

clean:
	rm -rf $(VENV) build dist src/*.egg-info
