"""The Kubernetes shell around the tuning core: kopf handlers, API access, Pod observation.

Layering: ``observe`` (pure: Pods → trial results), ``reconcile`` (one synchronous pass: read the
job and its Pods, plan, write status, create/delete Pods), ``kube`` (the API calls, with retries),
``handlers`` (kopf wiring only). Nothing in ``kubetune`` outside this package imports Kubernetes.
"""
