"""kopf wiring: every decorator of the operator, each handler a few lines that delegate.

One daemon per TuningJob is the job's only status writer. It reconciles, then sleeps until a trial
Pod of its job changes (a watch event, so successors start immediately), the job's spec changes, or
the next time-based decision is due. Pods carry no kopf handlers that write to them: the Pod watch
only wakes daemons.
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


class _QuietWakeups(logging.Filter):
    """Drop kopf's "Handler ... succeeded" line for the wake-up handlers: one per Pod event is noise."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not (message.endswith("succeeded.") and any(f"'{h}'" in message for h in WAKEUP_HANDLERS))


def _wakeup(memo: kopf.Memo, namespace: str, job: str) -> asyncio.Event:
    wakeups: dict[tuple[str, str], asyncio.Event] = memo.wakeups
    return wakeups.setdefault((namespace, job), asyncio.Event())


@kopf.on.startup()
def configure(settings: kopf.OperatorSettings, memo: kopf.Memo, **_: Any) -> None:
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=GROUP)
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(prefix=GROUP)
    settings.persistence.finalizer = f"{GROUP}/finalizer"
    settings.posting.level = logging.INFO
    settings.watching.server_timeout = 300
    settings.watching.client_timeout = 330
    logging.getLogger("kopf.objects").addFilter(_QuietWakeups())
    memo.wakeups = {}
    memo.generations = {}
    memo.api = KubeApi()
    preload()  # torch and gpytorch, once, before the first job needs a GP


@kopf.on.event("pods", labels={JOB_LABEL: kopf.PRESENT})
async def trial_pod_changed(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    _wakeup(memo, body.metadata.namespace, body.metadata.labels[JOB_LABEL]).set()


@kopf.on.event(GROUP, VERSION, PLURAL)
async def tuningjob_changed(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    """Wake the job's daemon when its spec changed (e.g. suspend), not for our own status writes."""
    key = (body.metadata.namespace, body.metadata.name)
    generation = body.metadata.get("generation")
    if memo.generations.get(key) != generation:
        memo.generations[key] = generation
        _wakeup(memo, *key).set()


@kopf.daemon(GROUP, VERSION, PLURAL, cancellation_timeout=10.0)
async def run_tuningjob(body: kopf.Body, name: str, namespace: str, memo: kopf.Memo,
                        stopped: kopf.DaemonStopped, logger: logging.Logger, **_: Any) -> None:
    wakeup = _wakeup(memo, namespace, name)
    while not stopped:
        wakeup.clear()
        try:
            outcome = await asyncio.to_thread(reconcile, memo.api, namespace, name)
        except Exception:  # the API or the network failed; the status still holds the truth
            logger.exception("reconciling failed; retrying in %.0fs", ERROR_BACKOFF_SECONDS)
            await asyncio.sleep(ERROR_BACKOFF_SECONDS)
            continue
        for event in outcome.events:
            kopf.event(body, type=event.type, reason=event.reason, message=event.message)
        if outcome.finished:
            logger.info("job finished; nothing left to watch")
            return
        try:
            await asyncio.wait_for(wakeup.wait(), timeout=outcome.wait_seconds)
        except asyncio.TimeoutError:
            pass
