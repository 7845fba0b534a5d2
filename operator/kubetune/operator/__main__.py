"""``python -m kubetune.operator``: run the operator (kopf, standalone, with a liveness endpoint)."""

from __future__ import annotations

import argparse
import os
import sys


def kopf_argv(argv: list[str] | None = None) -> list[str]:
    """The ``kopf run`` command line for our options."""
    parser = argparse.ArgumentParser(prog="python -m kubetune.operator", description=__doc__)
    scope = parser.add_mutually_exclusive_group()
    scope.add_argument("--all-namespaces", action="store_true", help="watch every namespace (default)")
    scope.add_argument("--namespace", action="append", default=[], help="watch this namespace (repeatable)")
    parser.add_argument("--liveness", default="http://0.0.0.0:8080/healthz", help="health endpoint URL")
    parser.add_argument("--log-format", choices=["plain", "full", "json"], default="full")
    verbosity = parser.add_mutually_exclusive_group()
    verbosity.add_argument("--verbose", action="store_true")
    verbosity.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    command = [sys.executable, "-m", "kopf", "run", "--standalone", "--liveness", args.liveness,
               f"--log-format={args.log_format}", "-m", "kubetune.operator.handlers"]
    command += [f"--namespace={ns}" for ns in args.namespace] or ["--all-namespaces"]
    if args.verbose:
        command.append("--verbose")
    if args.quiet:
        command.append("--quiet")
    return command


def main(argv: list[str] | None = None) -> None:
    command = kopf_argv(argv)
    os.execv(command[0], command)


if __name__ == "__main__":
    main()
