// The e2e harness: the operator binary as a child process against the local control plane, and
// the small tools the lifecycle tests and the e2e benchmark share (cluster client, the Project
// CRD, bounded polling, Prometheus text, Secret data). Every failure is a Status that says what
// was awaited and what was last seen.
//
//   using namespace kubabase::e2e::harness;
//   auto client = ConnectToCluster(nullptr);                   // $KUBABASE_CLUSTER_DIR/kubeconfig
//   Status crd = EnsureProjectCrd(**client, std::chrono::seconds(60));
//   OperatorProcess::Options options{.binary = OperatorBinary(), .kubeconfig = *KubeconfigPath()};
//   auto op = OperatorProcess::Start(options);                 // --leader-elect=false, free port
//   Status ready = (*op)->WaitReady(std::chrono::seconds(60)); // /readyz answers 200
//   auto writes = WritesByVerbAndResource(ParseMetrics(*(*op)->Scrape("/metrics")));
//   StatusOr<int> code = (*op)->Stop(SIGTERM, std::chrono::seconds(10));
//
// The cluster is the one of tests/cluster/README.md. The operator binary is $KUBABASE_OPERATOR,
// else the kubabase target of this build tree (compiled in as KUBABASE_OPERATOR_PATH).
//
// Not thread-safe: one test thread drives an OperatorProcess.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "controller/base/status.h"
#include "controller/kube/api_client.h"
#include "controller/kube/http_api_client.h"
#include "controller/kube/metrics.h"

namespace kubabase::e2e::harness {

using kube::Json;

// $KUBABASE_CLUSTER_DIR, or FailedPrecondition saying how to start a control plane.
StatusOr<std::string> ClusterDir();
// $KUBABASE_CLUSTER_DIR/kubeconfig; FailedPrecondition when it does not exist.
StatusOr<std::string> KubeconfigPath();
// $KUBABASE_OPERATOR, else the kubabase binary of this build tree.
std::string OperatorBinary();
// The repository root (crds/project.yaml): $KUBABASE_SOURCE_DIR, else compiled in.
std::string SourceDir();

// An admin client for the local control plane with generous pacing, user agent kubabase-e2e (so
// the tests' own edits belong to another field manager than the operator's).
StatusOr<std::unique_ptr<kube::HttpApiClient>> ConnectToCluster(kube::Metrics* metrics);

// Server-side applies crds/project.yaml (field manager kubabase-e2e; idempotent, so a CRD left
// by an older build is brought up to date), then waits until it is Established.
Status EnsureProjectCrd(kube::ApiClient& client, std::chrono::seconds timeout);

// The operator's identity as users install it (manifests/): ServiceAccount kubabase in namespace
// kubabase-system, bound to the ClusterRole kubabase and the Role kubabase-leader-election.
inline constexpr char kOperatorNamespace[] = "kubabase-system";
inline constexpr char kOperatorServiceAccount[] = "kubabase";

// Makes the cluster hold that identity: server-side applies manifests/{operator-reach-policy,
// operator-reach-binding,namespace,serviceaccount,clusterrole,clusterrolebinding,role,
// rolebinding}.yaml (field manager kubabase-e2e, forced, so a role edited by a test is brought
// back). The ValidatingAdmissionPolicy confines the ServiceAccount's writes to the namespaces it
// manages (docs/security.md section 5), as on a fresh install; the apiserver enforces it a
// moment after it is applied.
Status InstallOperatorIdentity(kube::ApiClient& admin);
// clusterroles.rbac.authorization.k8s.io, for tests that edit the operator's ClusterRole.
const kube::Resource& ClusterRoles();
// admissionregistration.k8s.io/v1 validatingadmissionpolicies and their bindings.
const kube::Resource& ValidatingAdmissionPolicies();
const kube::Resource& ValidatingAdmissionPolicyBindings();

// InstallOperatorIdentity, then a kubeconfig that authenticates as that ServiceAccount: asks the
// apiserver for a token of the ServiceAccount (TokenRequest, valid 2 h), and writes
// $KUBABASE_CLUSTER_DIR/operator.kubeconfig (mode 0600): the admin kubeconfig's server and CA with
// that token. Operators started with it run under exactly the RBAC users install, so a rule the
// operator needs and the role lacks fails the e2e test that needs it (a Project stalled with
// reason PermissionDenied).
StatusOr<std::string> OperatorKubeconfig(kube::ApiClient& admin);

// A YAML file as JSON (plain true/false and integers become those; quoted scalars stay text).
StatusOr<Json> YamlFileToJson(const std::string& path);

// Polls `condition` every `poll` until it returns true or `timeout` passes. The condition may
// describe what it saw in `*why`; the DeadlineExceeded error quotes the last description.
Status WaitUntil(const std::function<bool(std::string* why)>& condition,
                 std::chrono::milliseconds timeout, const std::string& what,
                 std::chrono::milliseconds poll = std::chrono::milliseconds(250));

// A free TCP port on 127.0.0.1 (bound to port 0 and released), 0 on failure.
int FreeLocalPort();

// One GET over HTTP/1.0 to 127.0.0.1:port: the body when the status is 200, else Unavailable
// quoting the status line.
StatusOr<std::string> HttpGet(int port, const std::string& path);

// The operator as a child process in its own process group; stdout and stderr go to a log file.
class OperatorProcess {
 public:
  struct Options {
    std::string binary;
    std::string kubeconfig;
    std::string log_path;                 // "": a fresh /tmp/kubabase-e2e-operator.*.log
    std::vector<std::string> extra_args;  // e.g. {"--resync-period", "5s"}
  };

  // fork/exec `binary --kubeconfig K --leader-elect=false --metrics-bind-address
  // 127.0.0.1:<free port> --events-namespace default <extra_args>`. Errors: FailedPrecondition
  // when the binary is missing, Internal when fork fails. Does not wait for readiness.
  static StatusOr<std::unique_ptr<OperatorProcess>> Start(const Options& options);

  // SIGKILLs and reaps a process still running.
  ~OperatorProcess();

  // Waits until /readyz answers 200 (caches synced). Unavailable when the process exited first,
  // DeadlineExceeded after `timeout`; both carry the log tail.
  Status WaitReady(std::chrono::seconds timeout);

  // Sends `signal` and waits up to `timeout`. Returns the exit code, or -N when signal N killed
  // it. DeadlineExceeded (with the log tail) when it was still running; it is SIGKILLed then.
  StatusOr<int> Stop(int signal, std::chrono::seconds timeout);

  // SIGKILL and reap.
  void Kill();

  // False once the process has exited (reaps it).
  bool Running();
  pid_t pid() const { return pid_; }
  int port() const { return port_; }
  const std::string& log_path() const { return log_path_; }

  // GET http://127.0.0.1:<port><path>.
  StatusOr<std::string> Scrape(const std::string& path = "/metrics") const;
  // The last `lines` lines of the log, under a header naming the file.
  std::string LogTail(int lines = 40) const;
  // VmRSS / VmHWM of the process in KiB (0 when unreadable).
  int64_t RssKiB() const;
  int64_t PeakRssKiB() const;

 private:
  OperatorProcess() = default;
  pid_t pid_ = 0;
  int port_ = 0;
  bool reaped_ = false;
  int exit_status_ = 0;
  std::string log_path_;
};

// The Prometheus text exposition, one sample per line.
struct MetricSample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};
std::vector<MetricSample> ParseMetrics(const std::string& text);
// Sum of `name` over the samples whose labels include every pair of `match`.
double SumMetric(const std::vector<MetricSample>& samples, const std::string& name,
                 const std::map<std::string, std::string>& match = {});
// kubabase_api_requests_total summed by verb (GET LIST CREATE UPDATE PATCH APPLY DELETE WATCH).
std::map<std::string, double> RequestsByVerb(const std::vector<MetricSample>& samples);
// CREATE UPDATE PATCH APPLY DELETE: the verbs (as HttpApiClient names them) that write.
bool IsWriteVerb(const std::string& verb);
// kubabase_api_requests_total of the write verbs, by "VERB group-resource".
std::map<std::string, double> WritesByVerbAndResource(const std::vector<MetricSample>& samples);

// A Secret's data, base64-decoded. The tests compare values; they never print them.
StatusOr<std::map<std::string, std::string>> SecretData(kube::ApiClient& client,
                                                        const std::string& ns,
                                                        const std::string& name);

// ListOptions with just a label selector and/or a field selector.
kube::ListOptions Selecting(const std::string& label_selector,
                            const std::string& field_selector = "");

// The string / integer at a JSON pointer ("/status/phase"), or "" / `otherwise`.
std::string StringAt(const Json& object, const std::string& pointer);
int64_t IntAt(const Json& object, const std::string& pointer, int64_t otherwise = -1);
// The condition of `type` in object.status.conditions, or null.
Json Condition(const Json& object, const std::string& type);

}  // namespace kubabase::e2e::harness
