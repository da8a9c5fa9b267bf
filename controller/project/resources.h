// Resources: the Kubernetes resources kubabase reads and writes for a Project, in one place: the
// Project custom resource itself, every kind render/ produces, and which of them the reconciler
// watches (and may prune) by label.
//
//   const kube::Resource& projects = ProjectsResource();           // kubabase.io/v1alpha1 projects
//   StatusOr<const kube::Resource*> r = ResourceForObject(object);  // Deployment -> deployments.apps
//   for (const kube::Resource* owned : OwnedResources()) ...        // watched with managed-by label
//   kube::Applier applier(client, metrics, names::kFieldManager, ApplyKindOf);
//
// Pure lookups over process-wide constants; thread-safe.
#pragma once

#include <vector>

#include "controller/base/status.h"
#include "controller/kube/apply.h"
#include "controller/kube/controller.h"
#include "controller/kube/resource.h"
#include "controller/project/defaults.h"

namespace kubabase::project {

// projects.kubabase.io, version v1alpha1, cluster-scoped.
const kube::Resource& ProjectsResource();

// What deletionPolicy Retain does with a kind's children when the Project goes.
enum class OnRetain {
  kDelete,   // the finalizer deletes them (workloads, Services, Ingresses, Jobs)
  kKeep,     // the finalizer strips this Project's owner reference: they outlive it (data, keys)
  kCollect,  // left to garbage collection through their owner reference (config, policies)
};

// A kind of child and the rules for it: the one table that owned resources, watches, prune and
// the finalizer read.
struct ChildKind {
  const kube::Resource* resource;
  // Deleted by prune when render no longer produces it. Never for the Namespace and PVCs: data
  // goes only with deletionPolicy Delete. (The key Secrets are never pruned either, by name.)
  bool pruned;
  // Its spec cannot change after creation (a Job's template): an existing object of the name is
  // never re-applied; a new input means a new name.
  bool immutable;
  OnRetain on_retain;
};

// Every kind a Project's children may have, in the order the finalizer handles them.
const std::vector<ChildKind>& ChildKinds();

// The resources of ChildKinds(), same order. The reconciler watches each with
// app.kubernetes.io/managed-by=kubabase.
const std::vector<const kube::Resource*>& OwnedResources();

// The rules for `resource`, or null when it is not a child kind.
const ChildKind* ChildKindOf(const kube::Resource& resource);

// The resource of an object by its apiVersion and kind. Errors: kInvalidArgument when the object
// has no apiVersion/kind or is not one of OwnedResources() (render produced something unknown:
// a bug, reported rather than guessed).
StatusOr<const kube::Resource*> ResourceForObject(const kube::Json& object);

// ResourceForObject with the kind's immutability from ChildKinds(): the kube::Applier's KindOf.
// The two key Secrets (db-credentials, api-keys) are create_only: created by POST when absent.
StatusOr<kube::ApplyKind> ApplyKindOf(const kube::Json& object);

// True for an object that can be a child of a Project: labelled kubabase.io/project=<p> and in
// namespace <namespace_prefix><p> (the Namespace: named so). Anything else carrying our labels
// (anyone may set them, in any namespace) is someone else's.
kube::Filter InItsProjectNamespace(std::string namespace_prefix);

// What the operator watches: every Project (primary), and each of OwnedResources() narrowed to
// app.kubernetes.io/managed-by=kubabase and mapped back to its Project by kubabase.io/project.
// The caches hold only objects InItsProjectNamespace(defaults.namespace_prefix): labelled
// objects elsewhere are dropped as they arrive, so nobody else's objects inflate the operator's
// memory (docs/security.md section 5). Secrets are cached without any value (the reconciler GETs
// the few it needs), ConfigMaps with data only for the ones render makes (db-bootstrap). The
// operator adds one more watch, of user Secrets labelled kubabase.io/reload (secret_refs.h
// ReloadSecretsWatch).
std::vector<kube::WatchSpec> WatchSpecs(const Defaults& defaults);

}  // namespace kubabase::project
