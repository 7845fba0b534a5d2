"""Load the cluster plugin (tests/cluster_fixtures.py) unless tests/conftest.py already registered it."""
import sys
from pathlib import Path

_TESTS = str(Path(__file__).resolve().parents[1])
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)


def pytest_configure(config):
    pm = config.pluginmanager
    if not (pm.has_plugin("cluster_fixtures") or pm.has_plugin("tests.cluster_fixtures")):
        import cluster_fixtures

        pm.register(cluster_fixtures, "cluster_fixtures")
