// Resources: the Kubernetes resources kubabase reads and writes for a Project, in one place: the
// Project custom resource itself, every kind render/ produces, and which of them the reconciler
// watches (and may prune) by label.
//
//   const kube::Resource& projects = ProjectsResource();           // kubabase.io/v1alpha1 projects
//   StatusOr<const kube::Resource*> r = ResourceForObject(object);  // Deployment -> deployments.apps
//   for (const kube::Resource* owned : OwnedResources()) ...        // watched with managed-by label
//
// Pure lookups over process-wide constants; thread-safe.
#pragma once

#include <vector>

#include "controller/base/status.h"
#include "controller/kube/controller.h"
#include "controller/kube/resource.h"

namespace kubabase::project {

// projects.kubabase.io, version v1alpha1, cluster-scoped.
const kube::Resource& ProjectsResource();

// Every kind a Project's children may have, in no particular order: Namespaces, Secrets,
// ConfigMaps, Services, PersistentVolumeClaims, Deployments, StatefulSets, Jobs, Ingresses,
// NetworkPolicies. The reconciler watches each with app.kubernetes.io/managed-by=kubabase.
const std::vector<const kube::Resource*>& OwnedResources();

// The resource of an object by its apiVersion and kind. Errors: kInvalidArgument when the object
// has no apiVersion/kind or is not one of OwnedResources() (render produced something unknown:
// a bug, reported rather than guessed).
StatusOr<const kube::Resource*> ResourceForObject(const kube::Json& object);

// What the operator watches: every Project (primary), and each of OwnedResources() narrowed to
// app.kubernetes.io/managed-by=kubabase and mapped back to its Project by kubabase.io/project.
// Secrets are cached without any value (the reconciler GETs the few it needs). The operator adds
// one more watch, of user Secrets labelled kubabase.io/reload (secret_refs.h ReloadSecretsWatch).
std::vector<kube::WatchSpec> WatchSpecs();

}  // namespace kubabase::project
