// Internal to the reconciler: the state one reconcile carries from step to step
// (project_reconciler.h lists the steps). Not for use outside project_reconciler.cc and the
// reconcile_*.cc / prune.cc step files.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "controller/kube/logging.h"
#include "controller/project/project_reconciler.h"

namespace kubabase::project {

struct ProjectReconciler::Pass {
  const kube::Json& object;  // the Project as cached
  Project project;           // parsed; carries our finalizer once it was added
  std::string ns;            // the project namespace
  kube::ScopedLog log;
  // The step running now, for the reason of a failure ("Apply" -> ApplyFailed).
  std::string step;
  kube::ObjectPtr ns_object;      // the namespace as observed (cache, else a GET)
  std::optional<Problem> problem;  // something a human must fix: nothing is written
  // Secrets read with GET (key Secrets, copies of user Secrets), by name: what apply compares.
  std::map<std::string, kube::Json> secrets;
  Keys existing;
  UserSecrets user_secrets;
  std::optional<Rendered> rendered;
  bool ns_terminating = false;
  kube::Action action = kube::Action::Done();
};

}  // namespace kubabase::project
