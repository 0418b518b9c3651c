# make run   – set up .venv with the simulator only (no torch) and run the built-in default
#              scenario (XOR, h = 2, DW, sweep)
# make test  – set up .venv and run the whole test suite (then its exactness tests again under
#              the CPU's other NumPy/OpenBLAS kernels: tests/other_kernels.py)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
CORE   := $(VENV)/.core
STAMP  := $(VENV)/.installed

.PHONY: run test test-fast lint docs clean

# the simulator alone: its pinned core dependencies (no torch, no numba, no test tools)
$(CORE): setup.cfg pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e .
	touch $(CORE)

# everything the tests need: the bridge (torch first, pinned: the CPU build; an unpinned
# torch pulled in by torch_geometric or torchao would fetch a multi-GB CUDA build), numba,
# dask, pytest, hypothesis, nbmake
$(STAMP): $(CORE)
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[test]'
	touch $(STAMP)

run: $(CORE)
	$(BIN)/argnn run --out results/default --force

test: $(STAMP)
	# one test process per core (pytest-xdist); every test is independent of the others
	$(BIN)/python -m pytest -n auto
	# the bit-for-bit tests again under the CPU's other NumPy and OpenBLAS kernels
	$(BIN)/python tests/other_kernels.py

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow"

# the documentation site (docs/_build/html): the pages, the API from the docstrings and the
# notebooks executed; a warning is an error
docs: $(STAMP)
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[docs]'
	rm -rf docs/_build docs/api
	$(BIN)/python -m sphinx -b html -W --keep-going -q docs docs/_build/html
	@echo "the site: docs/_build/html/index.html"

lint: $(STAMP)
	$(BIN)/python -m pip install -q ruff mypy
	$(BIN)/ruff check argnn_sim prunegcrn_bridge tests scenarios bench
	$(BIN)/mypy argnn_sim prunegcrn_bridge

clean:
	rm -rf $(VENV) results build *.egg-info docs/_build docs/api
