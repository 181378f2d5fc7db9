# The README's two commands: `make report` and `make test`. Everything else is optional.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PERIOD ?=
JOBS   ?= 2

.PHONY: install report test sample notebooks lab docs bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,report,lab]"
	touch $(STAMP)

install: $(STAMP)

data/sample/customers.csv: | $(STAMP)
	$(BIN)/revops sample --out data/sample --seed 42

## Run the report for the sample's last full quarter (or PERIOD=2025-Q3) into reports/
report: $(STAMP) data/sample/customers.csv
	$(BIN)/revops report $(if $(PERIOD),--period $(PERIOD),) --data data/sample --out reports -j $(JOBS)

## Unit tests, doctests and notebook regression tests (nbval)
test: $(STAMP) data/sample/customers.csv
	$(BIN)/python -m pytest -n $(JOBS) --dist loadfile -q

## Regenerate data/sample from the generator (identical content for the same seed)
sample: $(STAMP)
	$(BIN)/revops sample --out data/sample --seed 42

## Re-execute the notebooks in place on the sample (refreshes committed outputs); one BLAS thread,
## as the report's kernels run, so that the model fits give the report's numbers
notebooks: $(STAMP)
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 $(BIN)/jupyter nbconvert --to notebook --execute --inplace notebooks/[0-9]*.ipynb

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/

docs: $(STAMP)
	$(BIN)/revops docs --out docs/metrics.md

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_mrr.py

clean:
	rm -rf $(VENV) reports/*/ reports/.tmp-* .pytest_cache .hypothesis
