# Optimizer benchmark (issue 7). Include from the top Makefile: `include hack/bench.mk`.
#   make bench-optimizer-quick   # 3 seeds, 2 real-model problems + Branin, all methods
#   make bench-optimizer         # the full run (5 seeds, the reference comparison 20 and kubetune's side of it 50; 12 real-model problems, 4 test functions)
# Results: bench/results/optimizer{,-quick}.{md,json} and PNGs; runs are stored (and reused while their
# fingerprints match) in bench/results/optimizer.runs.jsonl; frozen baseline: bench/baseline/optimizer-baseline.json.
HEBO_VENV := .venv-hebo
BENCH_ARGS ?=

.PHONY: bench-deps bench-hebo-env bench-optimizer bench-optimizer-quick

bench-deps: install $(VENV)/.bench-installed
$(VENV)/.bench-installed: bench/requirements.txt
	$(VENV)/bin/pip install --quiet -r bench/requirements.txt
	touch $@

# HEBO's virtualenv shares .venv's torch/gpytorch via a .pth appended to its site-packages.
bench-hebo-env: bench-deps $(HEBO_VENV)/.installed
$(HEBO_VENV)/.installed: bench/requirements-hebo.txt
	$(VENV)/bin/python -m venv $(HEBO_VENV)
	$(VENV)/bin/python -c "import site; print(site.getsitepackages()[0])" \
	    > $$($(HEBO_VENV)/bin/python -c "import site; print(site.getsitepackages()[0])")/zz_main_venv.pth
	$(HEBO_VENV)/bin/pip install --quiet "Cython==3.0.12" wheel "setuptools<70"
	$(HEBO_VENV)/bin/pip install --quiet -r bench/requirements-hebo.txt
	$(HEBO_VENV)/bin/pip install --quiet --no-build-isolation --no-deps "pymoo==0.6.0.1"
	$(HEBO_VENV)/bin/pip install --quiet --no-deps "HEBO==0.3.6"
	$(HEBO_VENV)/bin/python -c "from hebo.optimizers.hebo import HEBO; import numpy; assert numpy.__version__ < '1.25'"
	touch $@

bench-optimizer: bench-hebo-env
	$(VENV)/bin/python -m bench.optimizer $(BENCH_ARGS)

bench-optimizer-quick: bench-hebo-env
	$(VENV)/bin/python -m bench.optimizer --quick $(BENCH_ARGS)
