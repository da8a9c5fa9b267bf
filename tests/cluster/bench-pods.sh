#!/usr/bin/env bash
# Benchmark (not a test): resident memory of the whole local control plane at idle and with N
# simulated pods (default 1000), and how long the pods take to become Ready.
#   KUBABASE_CLUSTER_DIR=... tests/cluster/bench-pods.sh [N]
# Needs a running cluster (scripts/cluster-up.sh). Adds ceil(N/100) kwok nodes (110 pods each
# allowed), one Deployment of N replicas in a scratch namespace, and removes both afterwards.
# Prints a markdown table. Pods are simulated by kwok: no container runs.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/cluster-env.sh"
n="${1:-1000}"
[[ -f "$KUBABASE_CLUSTER_DIR/env" ]] || cluster_die "no cluster in $KUBABASE_CLUSTER_DIR (run scripts/cluster-up.sh)"
source "$KUBABASE_CLUSTER_DIR/env"
k() { "$KUBECTL" --kubeconfig "$KUBECONFIG" --request-timeout=30s "$@"; }
ns="bench-$$"
data="$(readlink -f "$KUBABASE_CLUSTER_DIR/data")"

# measure <assoc-array-name>: fills component (/proc/PID/comm) -> RSS in KiB, summed.
declare -A idle=() loaded=()
measure() {
  local -n out=$1
  local p comm kb
  for p in $(cluster_pids); do
    comm="$(cat /proc/$p/comm 2>/dev/null)" || continue
    [[ "$comm" == kwokctl || "$comm" == bash ]] && continue
    kb="$(awk '/^VmRSS:/ {print $2}' /proc/$p/status 2>/dev/null)" || continue
    [[ -n "$kb" ]] || continue
    out[$comm]=$(( ${out[$comm]:-0} + kb ))
  done
}

nodes_before="$(k get nodes -o name | wc -l)"
sleep 5
measure idle

cleanup() {
  k delete namespace "$ns" --wait=false >/dev/null 2>&1 || true
}
trap cleanup EXIT

want_nodes=$(( (n + 99) / 100 ))
((want_nodes < nodes_before)) && want_nodes=$nodes_before
cluster_kwokctl --config "$data/kwokctl.yaml" scale node --replicas "$want_nodes" >/dev/null
k wait --for=condition=Ready node --all --timeout=120s >/dev/null
k create namespace "$ns" >/dev/null
until k -n "$ns" get serviceaccount default >/dev/null 2>&1; do sleep 0.5; done
t0=$SECONDS
k -n "$ns" create deployment bench --image=registry.k8s.io/pause:3.10 --replicas="$n" >/dev/null
deadline=$((SECONDS + 900))
while :; do
  ready="$(k -n "$ns" get deployment bench -o jsonpath='{.status.readyReplicas}')"
  [[ "${ready:-0}" -ge "$n" ]] && break
  ((SECONDS < deadline)) || cluster_die "only ${ready:-0}/$n pods Ready after 900 s"
  sleep 1
done
t_ready=$((SECONDS - t0))
sleep 10
measure loaded

# Tear down the load (bounded), back to the original node count.
k delete namespace "$ns" --timeout=600s >/dev/null || cluster_log "namespace $ns still terminating"
cluster_kwokctl --config "$data/kwokctl.yaml" scale node --replicas "$nodes_before" >/dev/null || true

mib() { awk -v k="$1" 'BEGIN { printf "%.0f", k / 1024 }'; }
echo
echo "| component | RSS idle (MiB) | RSS with $n pods on $want_nodes nodes (MiB) |"
echo "|---|---:|---:|"
ti=0; tl=0
for c in etcd kube-apiserver kube-controller kube-scheduler kwok-controller; do
  echo "| $c | $(mib "${idle[$c]:-0}") | $(mib "${loaded[$c]:-0}") |"
done
for c in "${!idle[@]}"; do ti=$((ti + ${idle[$c]})); done
for c in "${!loaded[@]}"; do tl=$((tl + ${loaded[$c]})); done
echo "| **total** | **$(mib $ti)** | **$(mib $tl)** |"
echo
echo "$n pods Ready in ${t_ready} s (simulated by kwok, no containers)."
