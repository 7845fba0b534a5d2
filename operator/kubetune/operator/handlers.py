"""kopf wiring: every decorator of the operator, each handler a few lines that delegate.

Each TuningJob gets one asyncio task, its only status writer. The task reconciles, then sleeps until
a trial Pod of its job changes (a watch event, so successors start immediately), the job's spec
changes, or the next time-based decision is due. The tasks are started from the TuningJob watch
rather than as kopf daemons: daemons need a finalizer, and a finalizer would make every TuningJob
(and its namespace) undeletable whenever the operator is not running. Owner references already
delete the trial Pods, so there is nothing a finalizer would have to do.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import kopf

from kubetune.crd import GROUP, PLURAL, VERSION
from kubetune.operator.kube import KubeApi
from kubetune.operator.reconcile import reconcile
from kubetune.strategies.bayesian import preload
from kubetune.template import JOB_LABEL

ERROR_BACKOFF_SECONDS = 2.0
WAKEUP_HANDLERS = ("trial_pod_changed", "tuningjob_changed")
Key = tuple[str, str]


class _QuietWakeups(logging.Filter):
    """Drop kopf's "Handler ... succeeded" line for the watch handlers: one per event is noise."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not (message.endswith("succeeded.") and any(f"'{h}'" in message for h in WAKEUP_HANDLERS))


def _wakeup(memo: kopf.Memo, key: Key) -> asyncio.Event:
    wakeups: dict[Key, asyncio.Event] = memo.wakeups
    return wakeups.setdefault(key, asyncio.Event())


@kopf.on.startup()
def configure(settings: kopf.OperatorSettings, memo: kopf.Memo, **_: Any) -> None:
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=GROUP)
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(prefix=GROUP)
    settings.posting.level = logging.INFO
    settings.watching.server_timeout = 300
    settings.watching.client_timeout = 330
    logging.getLogger("kopf.objects").addFilter(_QuietWakeups())
    memo.wakeups, memo.generations, memo.tasks = {}, {}, {}
    memo.api = KubeApi()
    preload()  # torch and gpytorch, once, before the first job needs a GP


@kopf.on.cleanup()
async def stop_jobs(memo: kopf.Memo, **_: Any) -> None:
    for task in memo.tasks.values():
        task.cancel()


@kopf.on.event("pods", labels={JOB_LABEL: kopf.PRESENT})
async def trial_pod_changed(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    _wakeup(memo, (body.metadata.namespace, body.metadata.labels[JOB_LABEL])).set()


@kopf.on.event(GROUP, VERSION, PLURAL)
async def tuningjob_changed(type: str | None, body: kopf.Body, memo: kopf.Memo, logger: logging.Logger,
                            **_: Any) -> None:
    """Start the job's task when first seen (or after a restart); wake it when its spec changed."""
    key: Key = (body.metadata.namespace, body.metadata.name)
    tasks: dict[Key, asyncio.Task[None]] = memo.tasks
    if type == "DELETED":
        if key in tasks:
            tasks.pop(key).cancel()
        memo.generations.pop(key, None)
        return
    if key not in tasks or tasks[key].done() and memo.generations.get(key) != body.metadata.get("generation"):
        reference = {"apiVersion": body["apiVersion"], "kind": body["kind"],
                     "metadata": {"name": key[1], "namespace": key[0], "uid": body.metadata.uid}}
        tasks[key] = asyncio.create_task(_run(key, reference, memo, logger))
    if memo.generations.get(key) != body.metadata.get("generation"):
        memo.generations[key] = body.metadata.get("generation")
        _wakeup(memo, key).set()


async def _run(key: Key, reference: dict[str, Any], memo: kopf.Memo, logger: logging.Logger) -> None:
    """Reconcile one job until it is finished, sleeping between passes until something changes."""
    wakeup = _wakeup(memo, key)
    while True:
        wakeup.clear()
        try:
            outcome = await asyncio.to_thread(reconcile, memo.api, *key)
        except Exception:  # the API or the network failed; the status still holds the truth
            logger.exception("reconciling failed; retrying in %.0fs", ERROR_BACKOFF_SECONDS)
            await asyncio.sleep(ERROR_BACKOFF_SECONDS)
            continue
        for event in outcome.events:
            kopf.event(reference, type=event.type, reason=event.reason, message=event.message)
        if outcome.finished:
            logger.info("job finished; nothing left to watch")
            return
        try:
            await asyncio.wait_for(wakeup.wait(), timeout=outcome.wait_seconds)
        except asyncio.TimeoutError:
            pass
