// Conflicts: what the schema cannot catch. Two Projects claiming one host, and a namespace that
// exists but belongs to someone else. Either ends in Ready=False / Stalled=True for the Project
// that must change, with a message that says what to change; the other Project is untouched.
//
//   HostIndex index;                                   // owned by the reconciler
//   index.Upsert({.name = "b", .host = "x.example.com", .created = "2026-...Z"});
//   std::optional<Problem> p = HostConflict(index, "b", "x.example.com");
//   // -> HostConflict: "host x.example.com is already served by Project a (older); set
//   //    spec.host of Project b to another host"
//   std::optional<Problem> n = NamespaceConflict("b", "project-b", observed_namespace.get());
//
// Rules: of the Projects claiming a host, the one serving it now (its Ingress carries the host)
// wins, then the one with the oldest creationTimestamp, then the smaller name: the holder keeps
// its host, so neither a newcomer nor an older Project that edits spec.host onto a live host can
// take it (the victim's logins would reach the taker). A host that an Ingress kubabase does not
// manage already serves is a conflict too (ForeignHostConflict).
//
// A namespace is ours when its label kubabase.io/project names this Project and its annotation
// kubabase.io/project-uid names this Project's uid. A namespace kept by deletionPolicy Retain
// records the uid of the Project it belonged to; a later Project of the same name gets it (its
// database, passwords and JWT_SECRET) only when an admin annotates it kubabase.io/adopt-uid=<the
// new Project's uid>; otherwise RetainedDataExists. Any other existing namespace conflicts.
//
// HostIndex: host -> claimants, updated per reconciled Project, so that per-event work does not
// grow with the number of Projects. Thread-safe (a mutex): workers reconcile in parallel.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "controller/kube/resource.h"
#include "controller/project/derive_status.h"

namespace kubabase::project {

struct HostClaim {
  std::string name;     // the Project
  std::string host;     // its effective host (spec.host or the default)
  std::string created;  // metadata.creationTimestamp (RFC 3339 sorts as text)
  bool serving = false;  // an Ingress of the Project carries the host now

  // The winner of a host sorts first.
  friend bool operator<(const HostClaim& a, const HostClaim& b) {
    if (a.serving != b.serving) return a.serving;
    return a.created != b.created ? a.created < b.created : a.name < b.name;
  }
  friend bool operator==(const HostClaim&, const HostClaim&) = default;
};

class HostIndex {
 public:
  // Records `claim`, replacing the Project's previous claim. Returns the hosts whose claimants
  // changed (the old and the new host when it moved; none when nothing changed): the caller
  // re-queues their other claimants so that a loser takes over a host that was freed.
  std::vector<std::string> Upsert(const HostClaim& claim);
  // Forgets the Project (deleted). Returns the host it held, if any.
  std::optional<std::string> Remove(const std::string& name);
  // The claimants of `host`, winner first.
  std::vector<HostClaim> Claimants(const std::string& host) const;
  // The host the index holds for a Project ("" if none).
  std::string HostOf(const std::string& name) const;
  size_t size() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, HostClaim> by_name_;
  std::map<std::string, std::set<HostClaim>> by_host_;
};

// HostConflict for Project `name` on `host`: set when another claimant wins.
std::optional<Problem> HostConflict(const HostIndex& index, const std::string& name,
                                    const std::string& host);

// True when `ingress` has a rule for `host`.
bool IngressHasRuleFor(const kube::Json& ingress, const std::string& host);

// HostConflict for `host` when one of `ingresses` (not being deleted) has a rule for it and is not
// the Project's own (in `own_namespace`, labelled managed-by kubabase).
std::optional<Problem> ForeignHostConflict(const std::string& host, const std::string& own_namespace,
                                           const std::vector<const kube::Json*>& ingresses);

// True when `observed_namespace` belongs to the Project `project_name` with uid `project_uid`:
// labelled for it, and its kubabase.io/project-uid annotation names the uid (none on a live
// namespace an operator before that annotation created: the next apply records it), or an admin
// annotated it kubabase.io/adopt-uid=<uid>. A retained namespace without a matching uid is not.
bool NamespaceOwnedBy(const kube::Json& observed_namespace, const std::string& project_name,
                      const std::string& project_uid);

// NamespaceConflict when `observed_namespace` exists and is labelled for another Project or none;
// RetainedDataExists when it is labelled for this name but NamespaceOwnedBy says no (data kept
// from an earlier Project of the same name); none while it terminates (the caller waits). Null
// `observed_namespace`: no conflict (it will be created).
std::optional<Problem> NamespaceConflict(const std::string& project_name,
                                         const std::string& project_uid,
                                         const std::string& namespace_name,
                                         const kube::Json* observed_namespace);

}  // namespace kubabase::project
