# The trainer's own virtualenv (issue 3); included by the top-level Makefile.
# MXNet 1.9.1 needs numpy < 1.24 and the operator needs numpy 2, so the trainer cannot share .venv:
# tests and `make demo` run trainer-image/cifar10.py with $(TRAINER_PYTHON) instead.
TRAINER_VENV := .venv-trainer
TRAINER_PYTHON := $(TRAINER_VENV)/bin/python
TRAINER_REQUIREMENTS := trainer-image/requirements.txt

.PHONY: trainer-env

trainer-env: $(TRAINER_VENV)/.installed  ## the trainer's virtualenv (a no-op once built)

# Rebuilt from scratch when the pins change, so nothing unpinned lingers from an older set. The last
# step imports MXNet, which fails here (not in a test) if libgomp1/libquadmath0 are missing.
$(TRAINER_VENV)/.installed: $(TRAINER_REQUIREMENTS)
	rm -rf $(TRAINER_VENV)
	$(PYTHON) -m venv $(TRAINER_VENV)
	$(TRAINER_PYTHON) -m pip install --quiet -r $(TRAINER_REQUIREMENTS)
	$(TRAINER_PYTHON) -c 'import mxnet, sklearn; print("trainer env: mxnet", mxnet.__version__)'
	touch $@
