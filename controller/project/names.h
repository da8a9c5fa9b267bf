// Names: every name, label, annotation and key that kubabase gives a Project's children, in one
// place, so that render/, the reconciler, the watches and the tests cannot disagree.
//
//   std::string ns = names::Namespace(defaults, "acme-shop");        // "project-acme-shop"
//   Json labels = names::Labels("acme-shop", "rest");                 // managed-by, project, component
//   names::kProjectLabel                                              // watches map children back by it
//
// Pure functions of their arguments; thread-safe.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "controller/project/defaults.h"

namespace kubabase::project {

namespace names {

// The API.
inline constexpr std::string_view kGroup = "kubabase.io";
inline constexpr std::string_view kVersion = "v1alpha1";
inline constexpr std::string_view kApiVersion = "kubabase.io/v1alpha1";
inline constexpr std::string_view kKind = "Project";
inline constexpr std::string_view kPlural = "projects";

// Server-side apply field manager and the finalizer that guards every Project.
inline constexpr std::string_view kFieldManager = "kubabase";
inline constexpr std::string_view kFinalizer = "kubabase.io/finalizer";

// kubabase.io/component of the children no registry component owns (components/component.h
// declares each component's own label).
inline constexpr std::string_view kNamespaceComponent = "namespace";
inline constexpr std::string_view kKeysComponent = "keys";  // db-credentials and api-keys
inline constexpr std::string_view kBootstrapComponent = "bootstrap";
inline constexpr std::string_view kNetworkComponent = "network";
inline constexpr std::string_view kPlanComponent = "plan";  // the ResourceQuota and LimitRange

// Labels on every child.
inline constexpr std::string_view kManagedByLabel = "app.kubernetes.io/managed-by";
inline constexpr std::string_view kManagedByValue = "kubabase";
inline constexpr std::string_view kProjectLabel = "kubabase.io/project";
inline constexpr std::string_view kComponentLabel = "kubabase.io/component";
// Set on every child when spec.organization is not empty, for grouping and selection.
inline constexpr std::string_view kOrganizationLabel = "kubabase.io/organization";
// Set by the finalizer on a namespace kept by deletionPolicy Retain ("true").
// On the ResourceQuota and LimitRange: the plan they come from.
inline constexpr std::string_view kPlanLabel = "kubabase.io/plan";
inline constexpr std::string_view kRetainedLabel = "kubabase.io/retained";
// On the project namespace: the uid of the Project it belongs to (a retained namespace keeps the
// uid of the Project that was deleted).
inline constexpr std::string_view kProjectUidAnnotation = "kubabase.io/project-uid";
// Set by an admin on a retained namespace: the uid of the new Project that may adopt it.
inline constexpr std::string_view kAdoptUidAnnotation = "kubabase.io/adopt-uid";
// Set by users on a Secret a spec names ("true"): its changes reach the Projects at once rather
// than at the next resync (secret_refs.h).
inline constexpr std::string_view kReloadLabel = "kubabase.io/reload";
// Set by a Secret's owner on a Secret outside a project's namespace: the comma-separated names
// of the Projects that may use it, or "*" for all (policy.h SecretAllowsProject).
inline constexpr std::string_view kAllowedProjectsAnnotation = "kubabase.io/allowed-projects";

// Pod-template annotation: sha256 of the Secret values and config a workload consumes, so a
// change rolls its pods. Never the values themselves.
inline constexpr std::string_view kConfigHashAnnotation = "kubabase.io/config-hash";

// Secrets in the project namespace.
inline constexpr std::string_view kDbCredentialsSecret = "db-credentials";
inline constexpr std::string_view kApiKeysSecret = "api-keys";
// Copies of user Secrets named by the spec (kept in sync by the reconciler).
inline constexpr std::string_view kS3CredentialsSecret = "s3-credentials";
inline constexpr std::string_view kSmtpCredentialsSecret = "smtp-credentials";
inline constexpr std::string_view kSmtpPasswordKey = "password";

// api-keys data keys (a pod can envFrom the Secret as is).
inline constexpr std::string_view kJwtSecretKey = "JWT_SECRET";
inline constexpr std::string_view kAnonKeyKey = "ANON_KEY";
inline constexpr std::string_view kServiceRoleKeyKey = "SERVICE_ROLE_KEY";
inline constexpr std::string_view kSupabaseUrlKey = "SUPABASE_URL";
// s3-credentials data keys (as the user's Secret holds them).
inline constexpr std::string_view kAwsAccessKeyIdKey = "AWS_ACCESS_KEY_ID";
inline constexpr std::string_view kAwsSecretAccessKeyKey = "AWS_SECRET_ACCESS_KEY";

// db-credentials data keys: one per database login role, named as the role. The full list is
// LoginRoles() in render/bootstrap_sql.h (the bootstrap sets a password for each).
inline constexpr std::string_view kRoleAuthenticator = "authenticator";
inline constexpr std::string_view kRoleAuthAdmin = "supabase_auth_admin";
inline constexpr std::string_view kRoleStorageAdmin = "supabase_storage_admin";
inline constexpr std::string_view kRoleSupabaseAdmin = "supabase_admin";
inline constexpr std::string_view kRolePostgres = "postgres";
// The superuser the database is initialized with and the bootstrap Job connects as.
inline constexpr std::string_view kSuperuserRole = kRoleSupabaseAdmin;

// Workloads and Services (a Service has its workload's name).
inline constexpr std::string_view kDatabase = "db";
inline constexpr std::string_view kRest = "rest";
inline constexpr std::string_view kAuth = "auth";
inline constexpr std::string_view kStorage = "storage";
inline constexpr int kDatabasePort = 5432;
inline constexpr int kRestPort = 3000;
inline constexpr int kRestAdminPort = 3001;
inline constexpr int kAuthPort = 9999;
inline constexpr int kStoragePort = 5000;
inline constexpr std::string_view kDatabaseName = "postgres";

// The StatefulSet's volumeClaimTemplate; its PVC is "data-db-0".
inline constexpr std::string_view kDatabaseVolume = "data";
inline constexpr std::string_view kDatabaseClaim = "data-db-0";
// The Storage API's file-backend PVC.
inline constexpr std::string_view kStorageClaim = "storage-data";
inline constexpr std::string_view kStorageFilePath = "/var/lib/storage";

// The bootstrap ConfigMap and the Job's name prefix (the Job is "db-bootstrap-<hash of its
// inputs>", so changed inputs run it again). Keys, mount path and env: render/bootstrap_sql.h.
inline constexpr std::string_view kBootstrap = "db-bootstrap";

// Ingresses: /rest/v1 and /auth/v1 share one; storage has its own for X-Forwarded-Prefix.
// The ResourceQuota and the LimitRange of the project's plan.
inline constexpr std::string_view kPlanObject = "plan";
inline constexpr std::string_view kApiIngress = "api";
inline constexpr std::string_view kStorageIngress = "storage";

// NetworkPolicies (render/network_policy.cc): every pod but the database's admits its own
// namespace; each routed component admits the ingress controller on its public ports, in
// "<kIngressControllerPolicyPrefix><component label>"; every pod's egress is "default-egress".
inline constexpr std::string_view kAllowSameNamespacePolicy = "allow-same-namespace";
inline constexpr std::string_view kDatabasePolicy = "db-same-namespace-only";
inline constexpr std::string_view kIngressControllerPolicyPrefix = "allow-ingress-controller-";
inline constexpr std::string_view kEgressPolicy = "default-egress";

// The project's namespace: <prefix><project name>.
std::string Namespace(const Defaults& defaults, std::string_view project);

// The labels of every child: managed-by, project, component (and organization when not empty).
std::map<std::string, std::string> Labels(std::string_view project, std::string_view component,
                                          std::string_view organization = {});

// The subset that selects a component's pods. Stable for the life of a project (selectors are
// immutable), so it never carries the organization.
std::map<std::string, std::string> SelectorLabels(std::string_view project,
                                                  std::string_view component);

}  // namespace names
}  // namespace kubabase::project
