# Helm chart, operator image and end-to-end test (issue 6). Included by the top Makefile:
#   include hack/chart.mk
# helm is the pinned binary that hack/build-bins.sh builds into the cache (make cluster-bins).
KUBETUNE_CACHE ?= $(HOME)/.cache/kubetune
include hack/versions.env
CHART := charts/kubetune
CHART_CRD := $(CHART)/crds/tuningjob.yaml
HELM ?= $(KUBETUNE_CACHE)/bin/helm-$(HELM_VERSION)/helm
KUBETUNE_NAMESPACE ?= kubetune-system

.PHONY: helm chart-crds chart-lint chart-template chart-package chart-install chart-uninstall e2e

$(HELM):
	hack/build-bins.sh helm

helm: $(HELM)  ## the pinned helm binary (cached)

# The chart ships a copy of crds/tuningjob.yaml (Helm installs crds/ before the templates). The copy
# is generated here; tests/e2e/test_chart.py fails when it differs from crds/tuningjob.yaml.
chart-crds:  ## copy crds/tuningjob.yaml into the chart
	cp crds/tuningjob.yaml $(CHART_CRD)

chart-lint: $(HELM)  ## helm lint, cluster-wide and namespaced
	$(HELM) lint --strict $(CHART)
	$(HELM) lint --strict $(CHART) --set 'watchNamespaces={team-a,team-b}'

chart-template: $(HELM)  ## render the chart's manifests to stdout
	$(HELM) template kubetune $(CHART) --namespace $(KUBETUNE_NAMESPACE) --include-crds

chart-package: $(HELM)  ## dist/kubetune-<version>.tgz
	$(HELM) package $(CHART) --destination dist

chart-install: $(HELM)  ## helm upgrade --install into $(KUBETUNE_NAMESPACE) (KUBECONFIG: yours, else the local cluster's)
	KUBECONFIG=$${KUBECONFIG:-$(CURDIR)/.cluster/kubeconfig} $(HELM) upgrade --install kubetune $(CHART) \
	  --namespace $(KUBETUNE_NAMESPACE) --create-namespace --wait --timeout 5m $(HELM_ARGS)

chart-uninstall: $(HELM)
	KUBECONFIG=$${KUBECONFIG:-$(CURDIR)/.cluster/kubeconfig} $(HELM) uninstall kubetune --namespace $(KUBETUNE_NAMESPACE) --wait

# The operator image is built by `make images` (hack/images.sh), which the e2e test runs itself.
e2e: install cluster-up  ## the end-to-end test alone: images, helm install, a TuningJob to Completed
	$(VENV)/bin/pytest -v tests/e2e
