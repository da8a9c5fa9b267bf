#!/usr/bin/env bash
# Stops the local test control plane in KUBABASE_CLUSTER_DIR and removes its temp data:
# kwokctl delete cluster, then any process of this cluster still alive (found by its pid files
# and by its unique data path) is terminated by pid, then the data dir, the host-path volumes
# this cluster provisioned under /tmp/hostpath_pv (the whole dir once no other kubabase cluster
# is left), the kubeconfig and env file. The components' logs are kept in
# $KUBABASE_CLUSTER_DIR/logs for debugging. Exits non-zero if a process survives.
# Safe to run when nothing is up.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/cluster-env.sh"

[[ -d "$KUBABASE_CLUSTER_DIR" ]] || { cluster_log "nothing to stop in $KUBABASE_CLUSTER_DIR"; exit 0; }
KUBABASE_CLUSTER_DIR="$(cd "$KUBABASE_CLUSTER_DIR" && pwd)"
kubeconfig="$KUBABASE_CLUSTER_DIR/kubeconfig"
data="$(readlink -f "$KUBABASE_CLUSTER_DIR/data" 2>/dev/null || true)"

# Host-path volumes of this cluster, while the apiserver still answers.
pv_paths=()
if cluster_ready; then
  while IFS= read -r p; do
    [[ "$p" == /tmp/hostpath_pv/* ]] && pv_paths+=("$p")
  done < <("$KUBABASE_CLUSTER_BIN/kubectl" --kubeconfig "$kubeconfig" --request-timeout=10s \
             get pv -o jsonpath='{range .items[*]}{.spec.hostPath.path}{"\n"}{end}' 2>/dev/null)
fi

if [[ -n "$data" && -d "$data/kwok/clusters" && -x "$KUBABASE_CLUSTER_BIN/kwokctl" ]]; then
  cluster_log "stopping control plane ($data)"
  rm -rf "$KUBABASE_CLUSTER_DIR/logs"
  mkdir -p "$KUBABASE_CLUSTER_DIR/logs"
  for d in "$data"/kwok/clusters/*/logs; do
    [[ -d "$d" ]] && cp -r "$d"/. "$KUBABASE_CLUSTER_DIR/logs/" 2>/dev/null
  done
  cp "$data"/kwokctl-create.log "$KUBABASE_CLUSTER_DIR/logs/" 2>/dev/null
  cluster_kwok_env
  timeout 90 "$KUBABASE_CLUSTER_BIN/kwokctl" --config "$data/kwokctl.yaml" --name "$KUBABASE_CLUSTER_NAME" \
    delete cluster >"$KUBABASE_CLUSTER_DIR/logs/kwokctl-delete.log" 2>&1 9>&- \
    || cluster_log "kwokctl delete cluster failed (logs/kwokctl-delete.log); killing by pid"
fi

# Anything left of this cluster: TERM, wait up to 30 s, then KILL.
if [[ -n "$data" ]]; then
  pids=$(cluster_pids)
  if [[ -n "$pids" ]]; then
    cluster_log "terminating leftover processes: $(echo $pids)"
    kill -TERM $pids 2>/dev/null
    for _ in $(seq 1 60); do
      pids=$(cluster_pids); [[ -z "$pids" ]] && break; sleep 0.5
    done
    if [[ -n "$pids" ]]; then
      cluster_log "killing: $(echo $pids)"
      kill -KILL $pids 2>/dev/null
      for _ in $(seq 1 20); do
        pids=$(cluster_pids); [[ -z "$pids" ]] && break; sleep 0.5
      done
    fi
  fi
fi
left=""
[[ -n "$data" ]] && left="$(cluster_pids)"

for p in "${pv_paths[@]}"; do rm -rf -- "$p"; done
if [[ -n "$data" && -d "$data" && "$data" == /tmp/kubabase-cluster-data.* ]]; then
  rm -rf -- "$data"
fi
rm -f "$KUBABASE_CLUSTER_DIR/data" "$kubeconfig" "$KUBABASE_CLUSTER_DIR/env" "$KUBABASE_CLUSTER_DIR/audit.log" \
  "$KUBABASE_CLUSTER_DIR/operator.kubeconfig"
# /tmp/hostpath_pv outlives clusters: remove it when no other kubabase cluster remains.
if [[ -d /tmp/hostpath_pv ]] && ! compgen -G "/tmp/kubabase-cluster-data.*" >/dev/null; then
  rm -rf /tmp/hostpath_pv
fi

if [[ -n "$left" ]]; then
  cluster_die "processes still alive after stop: $(echo $left)"
fi
cluster_log "stopped; no process left, temp data removed"
