# Two commands on a fresh machine:
#   make report   set up .venv if needed, then write the alignment impact report (HTML) from the defaults
#   make test     set up .venv if needed, then run the test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: report test bench setup clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

report: $(STAMP)
	$(BIN)/funnelsim report alignment_impact

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadgroup

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_engine.py
	$(BIN)/python benchmarks/bench_sweeps.py
	$(BIN)/python benchmarks/bench_planning.py
	$(BIN)/python benchmarks/bench_classroom.py
	$(BIN)/python benchmarks/bench_uncertainty.py --quick
	$(BIN)/python benchmarks/bench_report.py --quick

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
