// Render: the pure step of a reconcile. (Project, operator Defaults, Keys, copied user Secrets)
// -> every object the project's namespace should hold, in apply order. No client, clock or
// randomness: the same inputs give byte-identical output, which the golden tests pin down.
//
//   StatusOr<Keys> keys = EnsureKeys(existing, project, defaults, clock.WallNow(), random);
//   StatusOr<Rendered> desired = DesiredState(project, defaults, *keys, user_secrets);
//   for (const Json& object : desired->objects) Apply(object);   // server-side apply
//   desired->bootstrap_job;   // what render decided, so nothing downstream re-reads objects
//
// Every object has apiVersion, kind, metadata.name, metadata.namespace (except the Namespace), the
// labels of names::Labels (so watches map it back by kubabase.io/project and the reconciler can
// gate or prune by kubabase.io/component), and, except as below, an owner reference to the
// Project (controller: true, blockOwnerDeletion: true).
//
// Decisions (see the .cc files for the why):
// - Apply order: Namespace; Secrets (keys, then the copies of user Secrets); NetworkPolicies
//   (before any pod exists, so there is no open window); then each enabled component in
//   registry order (components/registry.cc): db Service, StatefulSet, bootstrap ConfigMap and
//   Job; rest, auth, storage (PVC, Service, Deployment each), meta; the routing Ingresses.
// - deletionPolicy Retain: the Namespace, the Secrets and the storage-data PVC carry NO owner
//   reference, so that neither garbage collection nor a foreground delete (`kubectl delete
//   --cascade=foreground`) can take data or keys with the Project; a new Project of the same name
//   adopts them. With Delete, they are owned like everything else. (The db StatefulSet's PVC
//   data-db-0 is created by the StatefulSet controller and never owned.)
// - enabled: false renders none of the component's objects (Deployment, Service, PVC, its Ingress
//   rules). The reconciler deletes children that carry our labels but are not in this list.
// - paused: true renders every workload with replicas 0 (the db StatefulSet too); the bootstrap
//   Job is not rendered while paused (it could not reach the database).
// - The bootstrap Job is named db-bootstrap-<10 hex of sha256(SQL, script, image, JWT_EXP,
//   passwords)>: a Job's pod template is immutable, so changed inputs make a new Job that runs
//   again; the reconciler deletes older db-bootstrap-* Jobs.
// - rest, auth and storage pods carry kubabase.io/config-hash: sha256 over the Secret values they
//   consume (never the values), so a changed password or key rolls them. The db has none: its
//   env only matters at first initialisation, and restarting Postgres for nothing is costly.
// - Passwords reach containers only through secretKeyRef env; connection URIs use $(DB_PASSWORD)
//   expansion, so no secret is in any pod spec, ConfigMap, annotation or command line.
//
// Thread-safe (pure).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "controller/base/status.h"
#include "controller/project/components/component.h"
#include "controller/project/defaults.h"
#include "controller/project/keys.h"
#include "controller/project/project.h"

namespace kubabase::project {

// Values the reconciler read from Secrets the spec names (UserSecretNeeds()), by the name of
// their copy in the project namespace, keyed as in the copy.
struct UserSecrets {
  std::map<std::string, std::map<std::string, std::string>> copies;
};

// What one render decided: the objects, and the facts the rest of the reconcile needs about them.
struct Rendered {
  std::vector<Json> objects;  // in apply order
  // The bootstrap Job of these inputs (db-bootstrap-<hash>); "" while paused (none rendered).
  std::string bootstrap_job;
  // The copies of user Secrets, by name; the reconciler reads their current state with GET.
  std::vector<std::string> secret_copies;
  // The enabled components with the image and desired replicas render used.
  std::vector<ComponentPlan> components;
  // The Ingresses routing rendered, by name.
  std::vector<std::string> ingresses;
};

// Every desired object, in apply order, with what render decided.
// A spec ParseProject accepted always renders (parse checks what render needs, e.g. a whole-byte
// fileSizeLimit): InvalidArgument naming the field only for a Project built by hand that parse
// would have rejected. FailedPrecondition when inputs are incomplete: a db-credentials or api-keys value
// missing from `keys` (call EnsureKeys first), or a user Secret copy without every key its
// UserSecretNeed lists (the message names the Secret and the key, never a value).
StatusOr<Rendered> DesiredState(const Project& project, const Defaults& defaults,
                                const Keys& keys, const UserSecrets& user_secrets = {});

}  // namespace kubabase::project
