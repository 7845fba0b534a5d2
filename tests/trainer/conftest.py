"""Registers the trainer tests' fixtures, defined in trainer_harness.py."""

from trainer_harness import local_trainer, smoke  # noqa: F401  (fixtures, found by name)
