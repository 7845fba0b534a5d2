"""kubetune's optimizer benchmark (issue 7): kubetune's strategies against the strongest open
optimizers, in the asynchronous-parallel protocol the operator runs, on Bayesmark-style
scikit-learn problems and standard test functions.

    .venv/bin/python -m bench.optimizer --quick     # ~15 min on 2 idle cores
    .venv/bin/python -m bench.optimizer             # full run

See ``bench/optimizer/README.md``.
"""
