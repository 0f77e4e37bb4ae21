# The quick-start commands: `make demo`, `make test`, `make serve`; each creates .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test serve lint bench venv clean

$(STAMP): pyproject.toml constraints-cpu.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints-cpu.txt -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
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
