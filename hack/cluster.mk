# Local single-node Kubernetes built from upstream sources (issue 4). Included by the top Makefile.
# Binaries are cached in $(KUBETUNE_CACHE)/bin/<name>-<version>/; runtime state lives in .cluster/.
include hack/versions.env
KUBECONFIG_LOCAL := .cluster/kubeconfig
# The cached tools, for other targets and scripts: $(KUBECTL) --kubeconfig $(KUBECONFIG_LOCAL) ...
CLUSTER_BIN_PATH := $(KUBETUNE_CACHE)/bin/k8s-$(K8S_VERSION):$(KUBETUNE_CACHE)/bin/etcd-$(ETCD_VERSION):$(KUBETUNE_CACHE)/bin/kwok-$(KWOK_VERSION):$(KUBETUNE_CACHE)/bin/helm-$(HELM_VERSION)
KUBECTL := $(KUBETUNE_CACHE)/bin/k8s-$(K8S_VERSION)/kubectl
HELM := $(KUBETUNE_CACHE)/bin/helm-$(HELM_VERSION)/helm
KWOK := $(KUBETUNE_CACHE)/bin/kwok-$(KWOK_VERSION)/kwok
KIND_CLUSTER ?= kubetune
# Any kind node image of the same minor as hack/versions.env (see the kind release notes for digests).
KIND_NODE_IMAGE ?= kindest/node:v1.32.8
N ?= 10
CLUSTER_IMAGES := docker.io/kubetune/trainer:0.1.0 $(if $(wildcard operator/Dockerfile),docker.io/kubetune/operator:0.1.0)

.PHONY: cluster-bins cluster-up cluster-down cluster-clean cluster-status cluster-env images kwok-nodes kind-up kind-load

cluster-bins:  ## build the pinned kube/etcd/kwok/helm binaries (cached)
	hack/build-bins.sh

cluster-up:  ## start etcd, control plane, containerd, kubelet; wait for a Ready node
	hack/cluster-up.sh

cluster-down:  ## stop everything cluster-up started (state kept; CLEAN=1 wipes .cluster/)
	hack/cluster-down.sh

cluster-clean:
	CLEAN=1 hack/cluster-down.sh

cluster-status:
	hack/cluster-status.sh

cluster-env:  ## eval "$(make -s cluster-env)": kubectl/helm/kwok on PATH, KUBECONFIG set
	@echo 'export PATH="$(CLUSTER_BIN_PATH):$$PATH" KUBECONFIG="$(CURDIR)/$(KUBECONFIG_LOCAL)"'

images:  ## build base, testbox, trainer (and operator) images without Docker; import into containerd
	hack/images.sh all

kwok-nodes:  ## N simulated 4-GPU p3.8xlarge nodes (tainted kwok.x-k8s.io/node=fake:NoSchedule)
	hack/kwok-nodes.sh $(N)

# --- for users with Docker (not runnable on the no-Docker dev machines) ---
kind-up:
	kind create cluster --name $(KIND_CLUSTER) --image $(KIND_NODE_IMAGE) --config hack/kind-config.yaml --kubeconfig $(KUBECONFIG_LOCAL)
	kubectl --kubeconfig $(KUBECONFIG_LOCAL) patch node $(KIND_CLUSTER)-control-plane --subresource=status \
	  --type=merge -p '{"status":{"capacity":{"nvidia.com/gpu":"4"},"allocatable":{"nvidia.com/gpu":"4"}}}'

kind-load:
	docker build -t docker.io/kubetune/trainer:0.1.0 trainer-image
	$(if $(wildcard operator/Dockerfile),docker build -t docker.io/kubetune/operator:0.1.0 -f operator/Dockerfile .)
	kind load docker-image --name $(KIND_CLUSTER) $(CLUSTER_IMAGES)
