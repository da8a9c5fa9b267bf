#include "controller/project/project_reconciler.h"

#include <set>

#include "controller/kube/logging.h"
#include "controller/project/names.h"
#include "controller/project/resources.h"

namespace kubabase::project {
namespace {

using kube::Json;
using kube::ObjectPtr;
using kube::Resource;

std::string CreationTimestamp(const Json& object) {
  try {
    return object.at("metadata").value("creationTimestamp", std::string());
  } catch (const std::exception&) {
    return "";
  }
}

bool HasLabel(const Json& object, std::string_view key, std::string_view value) {
  try {
    return object.at("metadata").at("labels").value(std::string(key), std::string()) == value;
  } catch (const std::exception&) {
    return false;
  }
}

bool Terminating(const Json& object) {
  return object.contains("metadata") && object["metadata"].contains("deletionTimestamp");
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

// A problem only a human can fix, rather than one to retry.
bool NeedsAHuman(const Status& status) {
  return status.code() == StatusCode::kInvalidArgument ||
         status.code() == StatusCode::kFailedPrecondition;
}

}  // namespace

ProjectReconciler::ProjectReconciler(kube::ApiClient& client, CacheReader cache,
                                     ReconcilerOptions options)
    : client_(client),
      cache_(std::move(cache)),
      options_(std::move(options)),
      clock_(options_.clock != nullptr ? *options_.clock : RealClock::Get()),
      random_(options_.random != nullptr ? *options_.random : default_random_),
      applier_(client, options_.metrics),
      finalizer_(client, options_.defaults,
                 std::chrono::duration_cast<std::chrono::milliseconds>(options_.poll)) {
  if (options_.metrics != nullptr) {
    phase_gauge_ = &prometheus::BuildGauge()
                        .Name("kubabase_projects")
                        .Help("Projects by phase, as this operator last derived them")
                        .Register(*options_.metrics->registry());
  }
}

void ProjectReconciler::SetPhase(const std::string& name, std::optional<Phase> phase) {
  std::lock_guard lock(phase_mu_);
  auto it = phases_.find(name);
  if (it != phases_.end()) {
    if (phase && it->second == *phase) return;
    if (phase_gauge_) phase_gauge_->Add({{"phase", std::string(PhaseName(it->second))}}).Decrement();
    phases_.erase(it);
  }
  if (!phase) return;
  phases_[name] = *phase;
  if (phase_gauge_) phase_gauge_->Add({{"phase", std::string(PhaseName(*phase))}}).Increment();
}

void ProjectReconciler::Event(const Json& object, bool warning, std::string_view reason,
                              std::string_view message) {
  if (options_.events == nullptr) return;
  kube::ObjectReference ref = kube::ObjectReference::FromObject(object);
  // List items come without apiVersion and kind.
  ref.api_version = std::string(names::kApiVersion);
  ref.kind = std::string(names::kKind);
  options_.events->Record(ref, warning ? kube::EventType::kWarning : kube::EventType::kNormal,
                          reason, message);
}

StatusOr<std::optional<Json>> ProjectReconciler::GetOptional(const Resource& resource,
                                                             const std::string& ns,
                                                             const std::string& name) {
  StatusOr<Json> got = client_.Get(resource, ns, name);
  if (got.ok()) return std::optional<Json>(std::move(*got));
  if (got.status().IsNotFound()) return std::optional<Json>();
  return got.status().Annotate("read " + resource.kind + " " + ns + "/" + name);
}

StatusOr<kube::Action> ProjectReconciler::Reconcile(const kube::ObjectKey& key) {
  std::call_once(hosts_seeded_, [this] {
    // Once, O(projects): afterwards each reconcile updates only its own claim.
    if (!cache_.list) return;
    for (const ObjectPtr& object : cache_.list(ProjectsResource())) {
      StatusOr<Project> p = ParseProject(*object);
      if (!p.ok() || p->deleting) continue;
      hosts_.Upsert({p->name, Host(*p, options_.defaults), CreationTimestamp(*object)}).clear();
    }
  });
  ObjectPtr object = cache_.get(ProjectsResource(), "", key.name);
  if (object == nullptr) {
    // Deleted: free its host for a Project that lost it.
    if (std::optional<std::string> host = hosts_.Remove(key.name); host && enqueue_) {
      for (const HostClaim& claim : hosts_.Claimants(*host)) enqueue_({"", claim.name});
    }
    if (options_.secret_refs != nullptr) options_.secret_refs->Remove(key.name);
    SetPhase(key.name, std::nullopt);
    return kube::Action::Done();
  }
  StatusOr<Project> project = ParseProject(*object);
  if (!project.ok()) return ReconcileInvalid(*object, project.status());
  StatusOr<kube::Action> done = ReconcileProject(*object, *project);
  if (!done.ok()) ReportRefusal(*object, *project, done.status());
  return done;
}

void ProjectReconciler::ReportRefusal(const Json& object, const Project& project,
                                      const Status& refused) {
  // Transient errors are the work queue's to retry. (An apply rejected as invalid is already a
  // Problem, ApplyRejected, in ReconcileProject.)
  if (refused.code() != StatusCode::kPermissionDenied) return;
  const std::string reason = "PermissionDenied";
  const std::string message = "the apiserver refused a request (the operator retries): " +
                              refused.ToString();
  ProjectStatus next = Derive(project, Problem{reason, message}, "");
  if (!StatusChanged(project.status, next)) return;
  // Best effort: a status write refused too leaves the log line of the failed reconcile.
  if (WriteStatus(project, next).ok()) Event(object, true, reason, message);
  SetPhase(project.name, next.phase);
}

StatusOr<kube::Action> ProjectReconciler::ReconcileInvalid(const Json& object,
                                                           const Status& invalid) {
  // What the schema let through but we cannot use: report, do nothing, look again later.
  Project shell;
  shell.name = object["metadata"].value("name", std::string());
  shell.generation = object["metadata"].value("generation", int64_t{0});
  if (object.contains("status")) {
    StatusOr<ProjectStatus> current = ParseProjectStatus(object["status"]);
    if (current.ok()) shell.status = *current;
  }
  ProjectStatus next = Derive(shell, Problem{"InvalidSpec", invalid.message()}, "");
  std::vector<Condition> kept;
  for (const Condition& c : next.conditions) {
    if (c.type == "Ready" || c.type == "Reconciling" || c.type == "Stalled") kept.push_back(c);
  }
  next.conditions = kept;
  next.components.clear();
  if (StatusChanged(shell.status, next)) {
    KUBABASE_RETURN_IF_ERROR(WriteStatus(shell, next).status());
    Event(object, true, "InvalidSpec", invalid.message());
  }
  SetPhase(shell.name, next.phase);
  return kube::Action::RequeueAfter(options_.stalled_requeue);
}

std::optional<Problem> ProjectReconciler::CheckHost(const Project& project,
                                                    const std::string& created) {
  const std::string host = Host(project, options_.defaults);
  for (const std::string& changed : hosts_.Upsert({project.name, host, created})) {
    for (const HostClaim& claim : hosts_.Claimants(changed)) {
      if (claim.name != project.name && enqueue_) enqueue_({"", claim.name});
    }
  }
  // The index follows reconciles; make sure the rivals it names still claim this host.
  for (const HostClaim& claim : hosts_.Claimants(host)) {
    if (claim.name == project.name) continue;
    ObjectPtr rival = cache_.get(ProjectsResource(), "", claim.name);
    StatusOr<Project> parsed = rival ? ParseProject(*rival) : StatusOr<Project>(NotFoundError(""));
    if (!parsed.ok() || parsed->deleting) {
      hosts_.Remove(claim.name).reset();
    } else if (Host(*parsed, options_.defaults) != host) {
      hosts_.Upsert({claim.name, Host(*parsed, options_.defaults), CreationTimestamp(*rival)})
          .clear();
    }
  }
  return HostConflict(hosts_, project.name, host);
}

Status ProjectReconciler::ReadUserSecrets(const Project& project, UserSecrets* out,
                                          std::optional<Problem>* problem) {
  const ProjectSpec& spec = project.spec;
  if (spec.storage.enabled && spec.storage.backend == StorageBackend::kS3) {
    const SecretRef& ref = spec.storage.s3.credentials_secret_ref;
    KUBABASE_ASSIGN_OR_RETURN(std::optional<Json> secret,
                              GetOptional(Resource::Secrets(), ref.namespace_, ref.name));
    if (!secret) {
      *problem = Problem{"SecretNotFound", "Secret " + ref.namespace_ + "/" + ref.name +
                                               " named by spec.storage.s3.credentialsSecretRef "
                                               "does not exist; create it"};
      return Status::Ok();
    }
    StatusOr<std::map<std::string, std::string>> values = SecretValues(*secret);
    if (!values.ok()) {
      *problem = Problem{"InvalidSecret",
                         values.status()
                             .Annotate(ref.namespace_ + "/" + ref.name +
                                       " named by spec.storage.s3.credentialsSecretRef")
                             .message()};
      return Status::Ok();
    }
    for (std::string_view k : {names::kAwsAccessKeyIdKey, names::kAwsSecretAccessKeyKey}) {
      auto it = values->find(std::string(k));
      if (it != values->end()) out->s3_credentials[it->first] = it->second;
    }
  }
  if (spec.auth.enabled && spec.auth.smtp.configured() &&
      !spec.auth.smtp.password_secret_ref.empty()) {
    const SecretKeyRef& ref = spec.auth.smtp.password_secret_ref;
    KUBABASE_ASSIGN_OR_RETURN(std::optional<Json> secret,
                              GetOptional(Resource::Secrets(), ref.namespace_, ref.name));
    StatusOr<std::map<std::string, std::string>> values =
        secret ? SecretValues(*secret)
               : StatusOr<std::map<std::string, std::string>>(NotFoundError(""));
    if (!values.ok() || values->count(ref.key) == 0) {
      *problem = Problem{"SecretNotFound", "Secret " + ref.namespace_ + "/" + ref.name +
                                               " with key " + ref.key +
                                               " named by spec.auth.smtp.passwordSecretRef "
                                               "does not exist; create it"};
      return Status::Ok();
    }
    out->smtp_password = values->at(ref.key);
  }
  return Status::Ok();
}

ProjectStatus ProjectReconciler::Derive(const Project& project, std::optional<Problem> problem,
                                        const std::string& bootstrap_job) {
  const std::string ns = names::Namespace(options_.defaults, project.name);
  ObservedChildren children;
  if (cache_.get) {
    children.namespace_object = cache_.get(Resource::Namespaces(), "", ns);
    children.database = cache_.get(Resource::StatefulSets(), ns, names::kDatabase);
    if (!bootstrap_job.empty()) {
      children.bootstrap_job = cache_.get(Resource::Jobs(), ns, bootstrap_job);
    }
    children.rest = cache_.get(Resource::Deployments(), ns, names::kRest);
    children.auth = cache_.get(Resource::Deployments(), ns, names::kAuth);
    children.storage = cache_.get(Resource::Deployments(), ns, names::kStorage);
    for (std::string_view name : {names::kApiIngress, names::kStorageIngress}) {
      if (ObjectPtr ingress = cache_.get(Resource::Ingresses(), ns, name)) {
        children.ingresses.push_back(ingress);
      }
    }
  }
  return DeriveStatus({.project = project,
                       .defaults = options_.defaults,
                       .children = std::move(children),
                       .problem = std::move(problem),
                       .now = clock_.WallNow(),
                       .bootstrap_job_name = bootstrap_job});
}

StatusOr<std::string> ProjectReconciler::WriteStatus(const Project& project,
                                                     const ProjectStatus& next) {
  // Server-side apply on the status subresource: we own every status field, and fields we stop
  // sending (a component that was disabled) are removed, which a merge patch would keep.
  Json body = {{"apiVersion", names::kApiVersion},
               {"kind", names::kKind},
               {"metadata", {{"name", project.name}}},
               {"status", ToJson(next)}};
  kube::ApplyOptions options;
  options.field_manager = std::string(names::kFieldManager);
  options.force = true;
  options.subresource = "status";
  StatusOr<Json> written = client_.Apply(ProjectsResource(), "", project.name, body, options);
  if (!written.ok()) {
    if (written.status().IsNotFound()) return project.resource_version;  // gone meanwhile
    return written.status().Annotate("write status of Project " + project.name);
  }
  try {
    return written->at("metadata").at("resourceVersion").get<std::string>();
  } catch (const std::exception&) {
    return project.resource_version;
  }
}

Status ProjectReconciler::Prune(const Project& project, const std::vector<Json>& desired,
                                int* pruned) {
  if (!cache_.list_by_label) return Status::Ok();
  const std::string ns = names::Namespace(options_.defaults, project.name);
  std::set<std::string> wanted;
  for (const Json& object : desired) {
    wanted.insert(object.value("kind", std::string()) + "/" +
                  object["metadata"].value("name", std::string()));
  }
  // Never PVCs (data), never the Namespace; key Secrets are always desired anyway.
  for (const Resource* resource :
       {&Resource::Ingresses(), &Resource::Deployments(), &Resource::StatefulSets(),
        &Resource::Services(), &Resource::Jobs(), &Resource::ConfigMaps(),
        &Resource::NetworkPolicies(), &Resource::Secrets()}) {
    // While paused no bootstrap Job is rendered; keep the last one rather than run it again.
    if (project.spec.paused && resource == &Resource::Jobs()) continue;
    for (const ObjectPtr& object :
         cache_.list_by_label(*resource, names::kProjectLabel, project.name)) {
      const Json& metadata = (*object)["metadata"];
      const std::string name = metadata.value("name", std::string());
      if (metadata.value("namespace", std::string()) != ns || Terminating(*object)) continue;
      if (!HasLabel(*object, names::kManagedByLabel, names::kManagedByValue)) continue;
      if (wanted.count(resource->kind + "/" + name) > 0) continue;
      if (resource == &Resource::Secrets() &&
          (name == names::kDbCredentialsSecret || name == names::kApiKeysSecret)) {
        continue;
      }
      kube::DeleteOptions options;
      options.propagation_policy = "Background";
      Status deleted = client_.Delete(*resource, ns, name, options);
      if (!deleted.ok() && !deleted.IsNotFound()) {
        return deleted.Annotate("prune " + resource->kind + " " + ns + "/" + name);
      }
      ++*pruned;
    }
  }
  return Status::Ok();
}

StatusOr<kube::Action> ProjectReconciler::ReconcileProject(const Json& object,
                                                           const Project& project) {
  const std::string ns = names::Namespace(options_.defaults, project.name);
  kube::ScopedLog log({{"project", project.name}});

  if (options_.secret_refs != nullptr) {
    options_.secret_refs->Set(project.name,
                              project.deleting ? std::vector<SecretName>{}
                                               : UserSecretRefs(project.spec));
  }
  if (project.deleting) {
    if (std::optional<std::string> host = hosts_.Remove(project.name); host && enqueue_) {
      for (const HostClaim& claim : hosts_.Claimants(*host)) enqueue_({"", claim.name});
    }
    if (!HasFinalizer(project)) return kube::Action::Done();
    Project deleting = project;
    if (project.status.phase != Phase::kDeleting) {
      KUBABASE_ASSIGN_OR_RETURN(deleting.resource_version,
                                WriteStatus(project, Derive(project, std::nullopt, "")));
    }
    SetPhase(project.name, Phase::kDeleting);
    // The finalizer patch is guarded by the resourceVersion the status write produced.
    return finalizer_.Finalize(deleting, [&](std::string_view reason, std::string_view message) {
      Event(object, false, reason, message);
      log.Info("finalizer step", {{"reason", std::string(reason)}});
    });
  }

  Project current = project;
  if (!HasFinalizer(project)) {
    // Metadata only: the operator never writes spec.
    KUBABASE_RETURN_IF_ERROR(AddFinalizer(client_, project));
    current.finalizers.emplace_back(names::kFinalizer);
  }

  // Conflicts first: nothing is written for a Project that would take what is not its own.
  std::optional<Problem> problem = CheckHost(current, CreationTimestamp(object));
  ObjectPtr ns_object = cache_.get(Resource::Namespaces(), "", ns);
  if (ns_object == nullptr) {
    // The cache holds only namespaces with our label; a foreign one is found by a GET.
    KUBABASE_ASSIGN_OR_RETURN(std::optional<Json> got, GetOptional(Resource::Namespaces(), "", ns));
    if (got) ns_object = std::make_shared<const Json>(std::move(*got));
  }
  if (!problem) problem = NamespaceConflict(current.name, ns, ns_object.get());

  // Keys: from the API, never regenerated (see the header).
  std::map<std::string, Json> secrets;  // observed Secrets by name, for Matches
  Keys existing;
  for (std::string_view name : {names::kDbCredentialsSecret, names::kApiKeysSecret}) {
    KUBABASE_ASSIGN_OR_RETURN(std::optional<Json> secret,
                              GetOptional(Resource::Secrets(), ns, std::string(name)));
    if (!secret) continue;
    StatusOr<std::map<std::string, std::string>> values = SecretValues(*secret);
    if (!values.ok()) {
      // Name the Secret: the message is what the user has to go and fix.
      if (!problem) {
        problem = Problem{"InvalidSecret",
                          values.status().Annotate(ns + "/" + std::string(name)).message()};
      }
      continue;
    }
    (name == names::kDbCredentialsSecret ? existing.db_credentials : existing.api_keys) = *values;
    secrets[std::string(name)] = std::move(*secret);
  }
  UserSecrets user_secrets;
  if (!problem) KUBABASE_RETURN_IF_ERROR(ReadUserSecrets(current, &user_secrets, &problem));

  std::vector<Json> desired;
  std::string bootstrap_job;
  if (!problem) {
    StatusOr<Keys> keys = EnsureKeys(existing, current, options_.defaults, clock_.WallNow(),
                                     random_);
    if (!keys.ok()) {
      if (!NeedsAHuman(keys.status())) return keys.status();
      problem = Problem{"InvalidKeys", keys.status().message()};
    } else {
      StatusOr<std::vector<Json>> rendered =
          DesiredObjects(current, options_.defaults, *keys, user_secrets);
      if (!rendered.ok()) {
        if (!NeedsAHuman(rendered.status())) return rendered.status();
        problem = Problem{"InvalidSpec", rendered.status().message()};
      } else {
        desired = std::move(*rendered);
      }
    }
  }
  for (const Json& d : desired) {
    if (d.value("kind", std::string()) == "Job") bootstrap_job = d["metadata"].value("name", "");
  }

  const bool ns_terminating = ns_object != nullptr && Terminating(*ns_object) && !problem;
  if (!problem && !ns_terminating) {
    // Adoption of a namespace kept by deletionPolicy Retain: same name, same keys, same data.
    if (ns_object != nullptr && HasLabel(*ns_object, names::kRetainedLabel, "true")) {
      Json patch = {{"metadata", {{"labels", {{std::string(names::kRetainedLabel), nullptr}}}}}};
      StatusOr<Json> patched = client_.MergePatch(Resource::Namespaces(), "", ns, patch);
      if (!patched.ok()) return patched.status().Annotate("adopt namespace " + ns);
      Event(object, false, "Adopted",
            "adopted retained namespace " + ns + " with its Secrets and volumes; keys kept");
    }
    for (std::string_view copy : {names::kS3CredentialsSecret, names::kSmtpCredentialsSecret}) {
      bool wanted = false;
      for (const Json& d : desired) {
        wanted = wanted || (d.value("kind", "") == "Secret" && d["metadata"].value("name", "") == copy);
      }
      if (!wanted) continue;
      KUBABASE_ASSIGN_OR_RETURN(std::optional<Json> secret,
                                GetOptional(Resource::Secrets(), ns, std::string(copy)));
      if (secret) secrets[std::string(copy)] = std::move(*secret);
    }
    ObservedLookup observed = [&](const Resource& resource, std::string_view object_ns,
                                  std::string_view name) -> ObjectPtr {
      if (&resource == &Resource::Secrets() || resource.resource == "secrets") {
        auto it = secrets.find(std::string(name));
        return it == secrets.end() ? nullptr : std::make_shared<const Json>(it->second);
      }
      if (resource.resource == "namespaces" && ns_object) return ns_object;
      return cache_.get(resource, object_ns, name);
    };
    StatusOr<ApplyResult> applied = applier_.ApplyAll(desired, observed);
    if (!applied.ok()) {
      if (applied.status().code() != StatusCode::kInvalidArgument) return applied.status();
      problem = Problem{"ApplyRejected", applied.status().message()};
    } else {
      if (!applied->created.empty()) {
        Event(object, false, "Created", "created " + Join(applied->created));
      }
      if (!applied->updated.empty()) {
        Event(object, false, "Updated", "updated " + Join(applied->updated));
      }
      if (applied->wrote()) {
        log.Info("applied", {{"created", std::to_string(applied->created.size())},
                             {"updated", std::to_string(applied->updated.size())},
                             {"unchanged", std::to_string(applied->unchanged)}});
      }
      int pruned = 0;
      KUBABASE_RETURN_IF_ERROR(Prune(current, desired, &pruned));
      if (pruned > 0) {
        Event(object, false, "Pruned",
              "deleted " + std::to_string(pruned) + " objects the spec no longer asks for");
      }
    }
  }

  ProjectStatus next = Derive(current, problem, bootstrap_job);
  if (StatusChanged(current.status, next)) {
    KUBABASE_RETURN_IF_ERROR(WriteStatus(current, next).status());
    if (problem && current.status.phase != Phase::kFailed) {
      Event(object, true, problem->reason, problem->message);
    }
    if (next.phase != current.status.phase) {
      log.Info("phase", {{"from", std::string(PhaseName(current.status.phase))},
                         {"to", std::string(PhaseName(next.phase))}});
      if (!problem) {
        Event(object, false, std::string(PhaseName(next.phase)),
              "phase " + std::string(PhaseName(next.phase)));
      }
    }
  }
  SetPhase(current.name, next.phase);
  if (problem) return kube::Action::RequeueAfter(options_.stalled_requeue);
  if (ns_terminating) return kube::Action::RequeueAfter(options_.poll);
  return kube::Action::Done();
}

}  // namespace kubabase::project
