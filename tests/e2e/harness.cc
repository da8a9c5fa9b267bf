// How: fork/exec for the operator, a bare HTTP/1.0 client for /metrics and /readyz (civetweb
// closes the connection after an HTTP/1.0 answer, so reading to EOF is the whole response),
// yaml-cpp for the CRD file.
#include "tests/e2e/harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <yaml-cpp/yaml.h>

#include "controller/kube/kubeconfig.h"
#include "controller/kube/resource.h"
#include "controller/kube/yaml_json.h"
#include "controller/project/keys.h"

#ifndef KUBABASE_OPERATOR_PATH
#define KUBABASE_OPERATOR_PATH "kubabase"
#endif
#ifndef KUBABASE_SOURCE_DIR
#define KUBABASE_SOURCE_DIR "."
#endif

namespace kubabase::e2e::harness {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

int64_t ProcStatusKiB(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) {
      std::istringstream fields(line.substr(field.size() + 1));
      int64_t kib = 0;
      fields >> kib;
      return kib;
    }
  }
  return 0;
}

}  // namespace

StatusOr<std::string> ClusterDir() {
  std::string dir = Env("KUBABASE_CLUSTER_DIR");
  if (dir.empty()) {
    return FailedPreconditionError(
        "KUBABASE_CLUSTER_DIR is not set: run `ctest -L e2e` (which starts the control plane) or "
        "scripts/cluster-up.sh and export KUBABASE_CLUSTER_DIR");
  }
  return dir;
}

StatusOr<std::string> KubeconfigPath() {
  KUBABASE_ASSIGN_OR_RETURN(std::string dir, ClusterDir());
  std::string path = (fs::path(dir) / "kubeconfig").string();
  if (!fs::exists(path)) {
    return FailedPreconditionError(path + " does not exist: is the control plane up "
                                          "(scripts/cluster-up.sh)?");
  }
  return path;
}

std::string OperatorBinary() {
  std::string from_env = Env("KUBABASE_OPERATOR");
  return from_env.empty() ? std::string(KUBABASE_OPERATOR_PATH) : from_env;
}

std::string SourceDir() {
  std::string from_env = Env("KUBABASE_SOURCE_DIR");
  return from_env.empty() ? std::string(KUBABASE_SOURCE_DIR) : from_env;
}

StatusOr<std::unique_ptr<kube::HttpApiClient>> ConnectToCluster(kube::Metrics* metrics) {
  KUBABASE_ASSIGN_OR_RETURN(std::string path, KubeconfigPath());
  KUBABASE_ASSIGN_OR_RETURN(kube::ClientConfig config, kube::LoadKubeconfig(path, ""));
  kube::HttpApiClientOptions options;
  options.qps = 200;
  options.burst = 400;
  options.metrics = metrics;
  // Not "kubabase": edits made by the tests must belong to another field manager.
  options.user_agent = "kubabase-e2e";
  return kube::HttpApiClient::Create(config, options);
}

StatusOr<Json> YamlFileToJson(const std::string& path) {
  try {
    return kube::YamlToJson(YAML::LoadFile(path));
  } catch (const std::exception& e) {
    return InvalidArgumentError("cannot read " + path + ": " + e.what());
  }
}

Status EnsureProjectCrd(kube::ApiClient& client, std::chrono::seconds timeout) {
  const std::string name = "projects.kubabase.io";
  const kube::Resource& crds = kube::Resource::CustomResourceDefinitions();
  KUBABASE_ASSIGN_OR_RETURN(Json crd, YamlFileToJson(SourceDir() + "/crds/project.yaml"));
  // Applied every time (idempotent): a CRD left by an older build would test an old schema.
  kube::ApplyOptions apply{.field_manager = "kubabase-e2e", .force = true, .subresource = ""};
  KUBABASE_ASSIGN_OR_RETURN(Json applied, client.Apply(crds, "", name, crd, apply));
  (void)applied;
  return WaitUntil(
      [&](std::string* why) {
        StatusOr<Json> got = client.Get(crds, "", name);
        if (!got.ok()) {
          *why = got.status().ToString();
          return false;
        }
        Json established = Condition(*got, "Established");
        *why = established.dump();
        return established.is_object() && established.value("status", "") == "True";
      },
      timeout, "CRD " + name + " Established");
}

const kube::Resource& ClusterRoles() {
  static const kube::Resource kClusterRoles{"rbac.authorization.k8s.io", "v1", "clusterroles",
                                            "ClusterRole", false};
  return kClusterRoles;
}

const kube::Resource& ValidatingAdmissionPolicies() {
  static const kube::Resource kPolicies{"admissionregistration.k8s.io", "v1",
                                        "validatingadmissionpolicies",
                                        "ValidatingAdmissionPolicy", false};
  return kPolicies;
}

const kube::Resource& ValidatingAdmissionPolicyBindings() {
  static const kube::Resource kBindings{"admissionregistration.k8s.io", "v1",
                                        "validatingadmissionpolicybindings",
                                        "ValidatingAdmissionPolicyBinding", false};
  return kBindings;
}

Status InstallOperatorIdentity(kube::ApiClient& admin) {
  static const kube::Resource kClusterRoleBindings{"rbac.authorization.k8s.io", "v1",
                                                   "clusterrolebindings", "ClusterRoleBinding",
                                                   false};
  static const kube::Resource kRoles{"rbac.authorization.k8s.io", "v1", "roles", "Role", true};
  static const kube::Resource kRoleBindings{"rbac.authorization.k8s.io", "v1", "rolebindings",
                                            "RoleBinding", true};
  const std::vector<std::pair<std::string, const kube::Resource*>> files = {
      {"operator-reach-policy.yaml", &ValidatingAdmissionPolicies()},
      {"operator-reach-binding.yaml", &ValidatingAdmissionPolicyBindings()},
      {"namespace.yaml", &kube::Resource::Namespaces()},
      {"serviceaccount.yaml", &kube::Resource::ServiceAccounts()},
      {"clusterrole.yaml", &ClusterRoles()},
      {"clusterrolebinding.yaml", &kClusterRoleBindings},
      {"role.yaml", &kRoles},
      {"rolebinding.yaml", &kRoleBindings},
  };
  kube::ApplyOptions apply{.field_manager = "kubabase-e2e", .force = true, .subresource = ""};
  for (const auto& [file, resource] : files) {
    const std::string path = SourceDir() + "/manifests/" + file;
    KUBABASE_ASSIGN_OR_RETURN(Json object, YamlFileToJson(path));
    if (object.value("kind", "") != resource->kind) {
      return FailedPreconditionError(path + " holds a " + object.value("kind", "?") +
                                     ", expected a " + resource->kind);
    }
    const std::string ns = resource->namespaced ? StringAt(object, "/metadata/namespace") : "";
    StatusOr<Json> applied =
        admin.Apply(*resource, ns, StringAt(object, "/metadata/name"), object, apply);
    if (!applied.ok()) return applied.status().Annotate("applying " + path);
  }
  return Status::Ok();
}

StatusOr<std::string> OperatorKubeconfig(kube::ApiClient& admin) {
  KUBABASE_RETURN_IF_ERROR(InstallOperatorIdentity(admin));

  // POST .../serviceaccounts/<name>/token: the TokenRequest subresource, reached as the
  // "collection" of a resource path that names the ServiceAccount.
  const kube::Resource token_requests{
      "", "v1", std::string("serviceaccounts/") + kOperatorServiceAccount + "/token",
      "TokenRequest", true};
  Json request = {{"apiVersion", "authentication.k8s.io/v1"},
                  {"kind", "TokenRequest"},
                  {"spec", {{"expirationSeconds", 7200}}}};
  StatusOr<Json> issued = admin.Create(token_requests, kOperatorNamespace, request);
  if (!issued.ok()) {
    return issued.status().Annotate(std::string("requesting a token for ServiceAccount ") +
                                    kOperatorNamespace + "/" + kOperatorServiceAccount);
  }
  const std::string token = StringAt(*issued, "/status/token");
  if (token.empty()) return InternalError("the TokenRequest came back without a token");

  KUBABASE_ASSIGN_OR_RETURN(std::string admin_path, KubeconfigPath());
  KUBABASE_ASSIGN_OR_RETURN(kube::ClientConfig admin_config, kube::LoadKubeconfig(admin_path, ""));
  YAML::Node cluster;
  cluster["name"] = "local";
  cluster["cluster"]["server"] = admin_config.server;
  cluster["cluster"]["certificate-authority-data"] = project::Base64Encode(admin_config.ca_pem);
  YAML::Node user;
  user["name"] = "operator";
  user["user"]["token"] = token;
  YAML::Node context;
  context["name"] = "operator";
  context["context"]["cluster"] = "local";
  context["context"]["user"] = "operator";
  YAML::Node config;
  config["apiVersion"] = "v1";
  config["kind"] = "Config";
  config["clusters"].push_back(cluster);
  config["users"].push_back(user);
  config["contexts"].push_back(context);
  config["current-context"] = "operator";
  YAML::Emitter out;
  out << config;

  KUBABASE_ASSIGN_OR_RETURN(std::string dir, ClusterDir());
  const std::string path = (fs::path(dir) / "operator.kubeconfig").string();
  const std::string temporary = path + ".tmp";
  {
    // Created 0600 before the token is written: it is a credential.
    int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return InternalError("cannot create " + temporary);
    const std::string text = std::string(out.c_str()) + "\n";
    const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    ::close(fd);
    if (!written) return InternalError("cannot write " + temporary);
  }
  std::error_code error;
  fs::rename(temporary, path, error);
  if (error) return InternalError("cannot rename " + temporary + ": " + error.message());
  return path;
}

Status WaitUntil(const std::function<bool(std::string* why)>& condition,
                 std::chrono::milliseconds timeout, const std::string& what,
                 std::chrono::milliseconds poll) {
  const auto start = Clock::now();
  const auto deadline = start + timeout;
  std::string why;
  while (true) {
    why.clear();
    if (condition(&why)) return Status::Ok();
    if (Clock::now() >= deadline) {
      return DeadlineExceededError(
          "timed out after " +
          std::to_string(std::chrono::duration_cast<std::chrono::seconds>(timeout).count()) +
          " s waiting for " + what + (why.empty() ? "" : "; last seen: " + why));
    }
    std::this_thread::sleep_for(poll);
  }
}

int FreeLocalPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = 0;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
    socklen_t length = sizeof address;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
      port = ntohs(address.sin_port);
    }
  }
  ::close(fd);
  return port;
}

StatusOr<std::string> HttpGet(int port, const std::string& path) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return InternalError("socket failed");
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  timeval five_seconds{.tv_sec = 5, .tv_usec = 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &five_seconds, sizeof five_seconds);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &five_seconds, sizeof five_seconds);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    return UnavailableError("connection to 127.0.0.1:" + std::to_string(port) + " refused");
  }
  const std::string request = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
  if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size())) {
    return UnavailableError("cannot send the request");
  }
  std::string response;
  char buffer[8192];
  ssize_t n;
  while ((n = ::recv(fd, buffer, sizeof buffer, 0)) > 0) response.append(buffer, n);
  const size_t line_end = response.find("\r\n");
  const std::string status_line = response.substr(0, line_end);
  const size_t body = response.find("\r\n\r\n");
  if (status_line.find(" 200") == std::string::npos || body == std::string::npos) {
    return UnavailableError("GET " + path + ": " +
                            (status_line.empty() ? "no answer" : status_line));
  }
  return response.substr(body + 4);
}

StatusOr<std::unique_ptr<OperatorProcess>> OperatorProcess::Start(const Options& options) {
  if (!fs::exists(options.binary)) {
    return FailedPreconditionError("operator binary " + options.binary +
                                   " does not exist (build the kubabase target)");
  }
  std::unique_ptr<OperatorProcess> process(new OperatorProcess());
  process->port_ = FreeLocalPort();
  if (process->port_ == 0) return InternalError("no free local port");
  process->log_path_ = options.log_path;
  if (process->log_path_.empty()) {
    char name[] = "/tmp/kubabase-e2e-operator.XXXXXX";
    int fd = ::mkstemp(name);
    if (fd < 0) return InternalError("mkstemp failed");
    ::close(fd);
    process->log_path_ = std::string(name) + ".log";
    fs::rename(name, process->log_path_);
  }
  std::vector<std::string> args = {options.binary,
                                   "--kubeconfig",
                                   options.kubeconfig,
                                   "--leader-elect=false",
                                   "--metrics-bind-address",
                                   "127.0.0.1:" + std::to_string(process->port_),
                                   "--events-namespace",
                                   "default"};
  args.insert(args.end(), options.extra_args.begin(), options.extra_args.end());
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);

  const int log_fd = ::open(process->log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (log_fd < 0) return InternalError("cannot open " + process->log_path_);
  {
    std::ofstream header(process->log_path_, std::ios::app);
    header << "# e2e: exec";
    for (const std::string& arg : args) header << ' ' << arg;
    header << "\n";
  }
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(log_fd);
    return InternalError("fork failed");
  }
  if (pid == 0) {
    ::setpgid(0, 0);
    ::dup2(log_fd, STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    ::close(log_fd);
    int null_fd = ::open("/dev/null", O_RDONLY);
    if (null_fd >= 0) ::dup2(null_fd, STDIN_FILENO);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(log_fd);
  process->pid_ = pid;
  return process;
}

OperatorProcess::~OperatorProcess() { Kill(); }

bool OperatorProcess::Running() {
  if (reaped_ || pid_ <= 0) return false;
  int status = 0;
  pid_t got = ::waitpid(pid_, &status, WNOHANG);
  if (got == pid_) {
    reaped_ = true;
    exit_status_ = status;
    return false;
  }
  return true;
}

void OperatorProcess::Kill() {
  if (!Running()) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  if (::waitpid(pid_, &status, 0) == pid_) {
    reaped_ = true;
    exit_status_ = status;
  }
}

StatusOr<int> OperatorProcess::Stop(int signal, std::chrono::seconds timeout) {
  if (Running()) ::kill(pid_, signal);
  const auto deadline = Clock::now() + timeout;
  while (Running()) {
    if (Clock::now() >= deadline) {
      Kill();
      return DeadlineExceededError("the operator did not exit within " +
                                   std::to_string(timeout.count()) + " s of signal " +
                                   std::to_string(signal) + "; log tail:\n" + LogTail());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (WIFEXITED(exit_status_)) return WEXITSTATUS(exit_status_);
  if (WIFSIGNALED(exit_status_)) return -WTERMSIG(exit_status_);
  return InternalError("unexpected wait status " + std::to_string(exit_status_));
}

Status OperatorProcess::WaitReady(std::chrono::seconds timeout) {
  const auto deadline = Clock::now() + timeout;
  std::string last = "no answer yet";
  while (Clock::now() < deadline) {
    if (!Running()) {
      return UnavailableError("the operator exited before it was ready; log tail:\n" + LogTail());
    }
    StatusOr<std::string> ready = HttpGet(port_, "/readyz");
    if (ready.ok()) return Status::Ok();
    last = ready.status().message();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return DeadlineExceededError("the operator's /readyz did not answer 200 within " +
                               std::to_string(timeout.count()) + " s (last: " + last +
                               "); log tail:\n" + LogTail());
}

StatusOr<std::string> OperatorProcess::Scrape(const std::string& path) const {
  return HttpGet(port_, path);
}

std::string OperatorProcess::LogTail(int lines) const {
  std::ifstream in(log_path_);
  std::deque<std::string> tail;
  std::string line;
  while (std::getline(in, line)) {
    tail.push_back(line);
    if (static_cast<int>(tail.size()) > lines) tail.pop_front();
  }
  std::string out = "---- operator log " + log_path_ + " (last " + std::to_string(lines) +
                    " lines) ----\n";
  for (const std::string& l : tail) out += l + "\n";
  return out;
}

int64_t OperatorProcess::RssKiB() const { return ProcStatusKiB(pid_, "VmRSS"); }
int64_t OperatorProcess::PeakRssKiB() const { return ProcStatusKiB(pid_, "VmHWM"); }

std::vector<MetricSample> ParseMetrics(const std::string& text) {
  std::vector<MetricSample> out;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#') continue;
    MetricSample sample;
    size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
    sample.name = line.substr(0, i);
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        size_t eq = line.find('=', i);
        if (eq == std::string::npos) break;
        std::string key = line.substr(i, eq - i);
        i = eq + 2;  // skip ="
        std::string value;
        while (i < line.size() && line[i] != '"') {
          if (line[i] == '\\' && i + 1 < line.size()) {
            ++i;
            value.push_back(line[i] == 'n' ? '\n' : line[i]);
          } else {
            value.push_back(line[i]);
          }
          ++i;
        }
        ++i;  // closing quote
        if (i < line.size() && line[i] == ',') ++i;
        sample.labels[key] = value;
      }
      ++i;  // '}'
    }
    try {
      sample.value = std::stod(line.substr(i));
    } catch (const std::exception&) {
      continue;
    }
    out.push_back(std::move(sample));
  }
  return out;
}

double SumMetric(const std::vector<MetricSample>& samples, const std::string& name,
                 const std::map<std::string, std::string>& match) {
  double total = 0;
  for (const MetricSample& sample : samples) {
    if (sample.name != name) continue;
    bool ok = true;
    for (const auto& [key, value] : match) {
      auto found = sample.labels.find(key);
      if (found == sample.labels.end() || found->second != value) ok = false;
    }
    if (ok) total += sample.value;
  }
  return total;
}

std::map<std::string, double> RequestsByVerb(const std::vector<MetricSample>& samples) {
  std::map<std::string, double> out;
  for (const MetricSample& sample : samples) {
    if (sample.name != "kubabase_api_requests_total") continue;
    auto verb = sample.labels.find("verb");
    if (verb != sample.labels.end()) out[verb->second] += sample.value;
  }
  return out;
}

bool IsWriteVerb(const std::string& verb) {
  return verb == "CREATE" || verb == "UPDATE" || verb == "PATCH" || verb == "APPLY" ||
         verb == "DELETE";
}

std::map<std::string, double> WritesByVerbAndResource(const std::vector<MetricSample>& samples) {
  std::map<std::string, double> out;
  for (const MetricSample& sample : samples) {
    if (sample.name != "kubabase_api_requests_total") continue;
    auto verb = sample.labels.find("verb");
    auto resource = sample.labels.find("resource");
    if (verb == sample.labels.end() || !IsWriteVerb(verb->second)) continue;
    out[verb->second + " " + (resource == sample.labels.end() ? "?" : resource->second)] +=
        sample.value;
  }
  return out;
}

StatusOr<std::map<std::string, std::string>> SecretData(kube::ApiClient& client,
                                                        const std::string& ns,
                                                        const std::string& name) {
  KUBABASE_ASSIGN_OR_RETURN(Json secret, client.Get(kube::Resource::Secrets(), ns, name));
  return project::SecretValues(secret);
}

kube::ListOptions Selecting(const std::string& label_selector,
                            const std::string& field_selector) {
  kube::ListOptions options;
  options.label_selector = label_selector;
  options.field_selector = field_selector;
  return options;
}

std::string StringAt(const Json& object, const std::string& pointer) {
  Json::json_pointer p(pointer);
  if (!object.contains(p) || !object[p].is_string()) return {};
  return object[p].get<std::string>();
}

int64_t IntAt(const Json& object, const std::string& pointer, int64_t otherwise) {
  Json::json_pointer p(pointer);
  if (!object.contains(p) || !object[p].is_number_integer()) return otherwise;
  return object[p].get<int64_t>();
}

Json Condition(const Json& object, const std::string& type) {
  Json::json_pointer p("/status/conditions");
  if (!object.contains(p) || !object[p].is_array()) return nullptr;
  for (const Json& condition : object[p]) {
    if (condition.is_object() && condition.value("type", "") == type) return condition;
  }
  return nullptr;
}

}  // namespace kubabase::e2e::harness
