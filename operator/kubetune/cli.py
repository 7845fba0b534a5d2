"""The ``kubetune`` command line: validate a TuningJob, or run it locally without a cluster."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from kubetune.errors import SpecError
from kubetune.job import JobState
from kubetune.local import LocalRunner, leaderboard
from kubetune.spec import load_tuningjob


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kubetune", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    validate = commands.add_parser("validate", help="check a TuningJob file and print what it would tune")
    validate.add_argument("file", type=Path)
    run = commands.add_parser("run", help="run a TuningJob (on a cluster use: kubectl apply -f FILE)")
    run.add_argument("file", type=Path)
    run.add_argument("--local", action="store_true", required=True,
                     help="run trials as processes on this machine (required: cluster runs go through kubectl)")
    run.add_argument("--output", type=Path, default=None, help="results folder (default: runs/<job name>)")
    run.add_argument("--command", dest="trial_command", default=None,
                     help="host command that replaces the primary container's command, "
                          "e.g. 'python trainer-image/cifar10.py'; its args and the hyperparameters are appended")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        job = load_tuningjob(args.file)
    except (SpecError, OSError) as err:
        print(f"kubetune: {args.file}: {err}", file=sys.stderr)
        return 2
    if args.command == "validate":
        print(f"{job.name}: valid; {job.spec.strategy} over {', '.join(job.spec.space.names)}, "
              f"{job.spec.limits.max_trials} trials, {job.spec.limits.max_parallel_trials} in parallel")
        return 0
    output = args.output or Path("runs") / job.name
    command = shlex.split(args.trial_command) if args.trial_command else None
    try:
        runner = LocalRunner(job, output, command)
        status = runner.run()
    except SpecError as err:
        print(f"kubetune: {err}", file=sys.stderr)
        return 2
    print(leaderboard(status, job))
    print(f"results: {output / 'tuningjob.yaml'}, logs: {output / 'trials'}/")
    return 0 if status.state in (JobState.COMPLETED, JobState.STOPPED) and status.reason != "Interrupted" else 1


if __name__ == "__main__":
    sys.exit(main())
