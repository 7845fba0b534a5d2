# kubetune — developer entry points. `make demo` and `make test` are the two commands a new user needs.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
KUBETUNE_CACHE ?= $(HOME)/.cache/kubetune
export KUBETUNE_CACHE

.PHONY: install demo test unit crds

include trainer-image/trainer.mk
include hack/cluster.mk
include hack/chart.mk
include hack/bench.mk

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[test]'
	touch $@

demo: install trainer-env
	$(VENV)/bin/kubetune run examples/digits-cpu.yaml --local --output runs/demo \
	    --command "$(TRAINER_PYTHON) trainer-image/cifar10.py"

unit: install
	$(VENV)/bin/pytest -m "not cluster and not image" tests

# cluster-up first: with containerd running, an image rebuild can drop the superseded copy first (disk).
test: install trainer-env cluster-up images
	$(VENV)/bin/pytest tests

crds: install  ## regenerate crds/tuningjob.yaml from the spec model, then the chart's copy
	$(VENV)/bin/python -m kubetune.crd > crds/tuningjob.yaml
	$(MAKE) --no-print-directory chart-crds
