"""The few Kubernetes API calls the operator makes, with retries for transient failures.

Synchronous (the official client); callers run it off kopf's event loop in a thread. Everything is
exchanged as plain JSON-shaped dicts so that the logic above stays testable without a cluster.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

import kubernetes
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from kubetune.crd import GROUP, PLURAL, VERSION
from kubetune.spec import KIND, API_VERSION
from kubetune.template import JOB_LABEL

T = TypeVar("T")
TRANSIENT = {429, 500, 502, 503, 504}
LOG_LIMIT_BYTES = 16 * 1024 * 1024
log = logging.getLogger(__name__)


class Conflict(Exception):
    """The job changed since we read it (HTTP 409): read again and redo the decision."""


class PodRejected(Exception):
    """The API server refused a trial Pod as invalid (400/422): the template is wrong, not the moment."""


def _retrying(call: Callable[[], T], attempts: int = 6) -> T:
    delay = 0.2
    for attempt in range(attempts):
        try:
            return call()
        except ApiException as err:
            if err.status not in TRANSIENT or attempt == attempts - 1:
                raise
        except HTTPError:
            if attempt == attempts - 1:
                raise
        log.warning("transient API error, retrying in %.1fs", delay)
        time.sleep(delay)
        delay = min(delay * 2, 5.0)
    raise AssertionError("unreachable")


def _api_message(err: ApiException) -> str:
    try:
        return str(json.loads(err.body)["message"])
    except (TypeError, ValueError, KeyError):
        return str(err.reason)


class KubeApi:
    def __init__(self) -> None:
        try:
            kubernetes.config.load_incluster_config()
        except kubernetes.config.ConfigException:
            kubernetes.config.load_kube_config()
        self.client = kubernetes.client.ApiClient()
        self.core = kubernetes.client.CoreV1Api(self.client)
        self.custom = kubernetes.client.CustomObjectsApi(self.client)

    def _json(self, obj: Any) -> Any:
        return self.client.sanitize_for_serialization(obj)

    def get_job(self, namespace: str, name: str) -> dict[str, Any] | None:
        try:
            return _retrying(lambda: self.custom.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name))
        except ApiException as err:
            if err.status == 404:
                return None
            raise

    def trial_pods(self, namespace: str, job: str) -> dict[str, dict[str, Any]]:
        pods = _retrying(lambda: self.core.list_namespaced_pod(namespace, label_selector=f"{JOB_LABEL}={job}"))
        return {pod.metadata.name: self._json(pod) for pod in pods.items}

    def read_log(self, namespace: str, pod: str, container: str) -> str:
        try:
            return _retrying(lambda: self.core.read_namespaced_pod_log(
                pod, namespace, container=container, limit_bytes=LOG_LIMIT_BYTES))
        except ApiException as err:
            if err.status in (400, 404):  # gone, or the container never started: no metrics
                return ""
            raise

    def patch_status(self, namespace: str, name: str, resource_version: str, status: dict[str, Any]) -> None:
        """Write the status only if the job is still at ``resource_version`` (else ``Conflict``)."""
        body = {"metadata": {"resourceVersion": resource_version}, "status": status}
        try:
            _retrying(lambda: self.custom.patch_namespaced_custom_object_status(
                GROUP, VERSION, namespace, PLURAL, name, body))
        except ApiException as err:
            if err.status == 409:
                raise Conflict(name) from None
            raise

    def create_pod(self, namespace: str, manifest: dict[str, Any], job: dict[str, Any]) -> bool:
        """Create a trial Pod owned by the job; False when it exists already (deterministic names)."""
        manifest = {**manifest, "metadata": {**manifest["metadata"], "namespace": namespace, "ownerReferences": [{
            "apiVersion": API_VERSION, "kind": KIND, "name": job["metadata"]["name"],
            "uid": job["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}]}}
        try:
            _retrying(lambda: self.core.create_namespaced_pod(namespace, manifest))
            return True
        except ApiException as err:
            if err.status == 409:
                return False
            if err.status in (400, 422):
                raise PodRejected(_api_message(err)) from None
            raise

    def delete_pod(self, namespace: str, name: str) -> None:
        try:
            _retrying(lambda: self.core.delete_namespaced_pod(name, namespace, grace_period_seconds=10))
        except ApiException as err:
            if err.status != 404:
                raise
