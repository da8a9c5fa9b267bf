#include "controller/kube/kubeconfig.h"

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <yaml-cpp/yaml.h>

#include "controller/base/base64.h"

namespace kubabase::kube {
namespace {

namespace fs = std::filesystem;

std::string EnvOrEmpty(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

// Reads a whole file. Errors name `path` and `what` (the field that pointed at it).
StatusOr<std::string> ReadWholeFile(const std::string& path, std::string_view what) {
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    return NotFoundError(fmt::format("{}: file {} does not exist", what, path));
  }
  if (fs::is_directory(path, ec)) {
    return InvalidArgumentError(fmt::format("{}: {} is a directory, not a file", what, path));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return UnavailableError(fmt::format("{}: cannot open {}", what, path));
  std::ostringstream content;
  content << in.rdbuf();
  if (in.bad()) return UnavailableError(fmt::format("{}: cannot read {}", what, path));
  return content.str();
}

std::string Trim(std::string_view s) {
  size_t begin = s.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos) return {};
  size_t end = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(begin, end - begin + 1));
}

// One kubeconfig entry (a cluster, user or context) and the file it came from.
struct Entry {
  YAML::Node body;   // the "cluster:", "user:" or "context:" map
  std::string file;  // the kubeconfig that defined it
};

// The merge of one or more kubeconfig files: the first definition of each name wins.
struct MergedKubeconfig {
  std::map<std::string, Entry> clusters;
  std::map<std::string, Entry> users;
  std::map<std::string, Entry> contexts;
  std::string current_context;
  std::string current_context_file;
  std::vector<std::string> files;
};

// Scalar field `key` of `map`, "" when absent. Errors when present but not a scalar.
StatusOr<std::string> ScalarField(const YAML::Node& map, std::string_view key,
                                  std::string_view where) {
  try {
    YAML::Node value = map[std::string(key)];
    if (!value.IsDefined() || value.IsNull()) return std::string();
    if (!value.IsScalar()) {
      return InvalidArgumentError(fmt::format("{}.{}: must be a string", where, key));
    }
    return value.Scalar();
  } catch (const YAML::Exception& e) {
    return InvalidArgumentError(fmt::format("{}.{}: {}", where, key, e.what()));
  }
}

StatusOr<bool> BoolField(const YAML::Node& map, std::string_view key, std::string_view where) {
  KUBABASE_ASSIGN_OR_RETURN(std::string text, ScalarField(map, key, where));
  if (text.empty() || text == "false" || text == "False" || text == "FALSE") return false;
  if (text == "true" || text == "True" || text == "TRUE") return true;
  return InvalidArgumentError(
      fmt::format("{}.{}: must be true or false, got \"{}\"", where, key, text));
}

// Adds the named list `section` ("clusters") of one file into `into`, first definition wins.
Status MergeSection(const YAML::Node& root, const std::string& file, std::string_view section,
                    std::string_view body_key, std::map<std::string, Entry>* into) {
  YAML::Node list = root[std::string(section)];
  if (!list.IsDefined() || list.IsNull()) return Status::Ok();
  if (!list.IsSequence()) {
    return InvalidArgumentError(fmt::format("kubeconfig {}: {}: must be a list", file, section));
  }
  for (size_t i = 0; i < list.size(); ++i) {
    const YAML::Node item = list[i];
    std::string where = fmt::format("kubeconfig {}: {}[{}]", file, section, i);
    if (!item.IsMap()) return InvalidArgumentError(where + ": must be a map");
    KUBABASE_ASSIGN_OR_RETURN(std::string name, ScalarField(item, "name", where));
    if (name.empty()) return InvalidArgumentError(where + ".name: missing");
    YAML::Node body = item[std::string(body_key)];
    if (body.IsDefined() && !body.IsNull() && !body.IsMap()) {
      return InvalidArgumentError(fmt::format("kubeconfig {}: {}[\"{}\"].{}: must be a map", file,
                                              section, name, body_key));
    }
    if (!body.IsDefined() || body.IsNull()) body = YAML::Node(YAML::NodeType::Map);
    into->try_emplace(name, Entry{body, file});
  }
  return Status::Ok();
}

Status MergeFile(const std::string& file, MergedKubeconfig* merged) {
  KUBABASE_ASSIGN_OR_RETURN(std::string text, ReadWholeFile(file, "kubeconfig"));
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    // e.mark locates the error; e.msg never quotes the document.
    return InvalidArgumentError(fmt::format("kubeconfig {}: not valid YAML at line {}: {}", file,
                                            e.mark.line + 1, e.msg));
  }
  if (root.IsNull() || !root.IsDefined()) {
    merged->files.push_back(file);
    return Status::Ok();  // kubectl accepts an empty file
  }
  if (!root.IsMap()) {
    return InvalidArgumentError(fmt::format("kubeconfig {}: the document must be a map", file));
  }
  try {
    KUBABASE_RETURN_IF_ERROR(MergeSection(root, file, "clusters", "cluster", &merged->clusters));
    KUBABASE_RETURN_IF_ERROR(MergeSection(root, file, "users", "user", &merged->users));
    KUBABASE_RETURN_IF_ERROR(MergeSection(root, file, "contexts", "context", &merged->contexts));
    KUBABASE_ASSIGN_OR_RETURN(std::string current,
                              ScalarField(root, "current-context", "kubeconfig " + file));
    if (merged->current_context.empty() && !current.empty()) {
      merged->current_context = current;
      merged->current_context_file = file;
    }
  } catch (const YAML::Exception& e) {
    return InvalidArgumentError(fmt::format("kubeconfig {}: {}", file, e.msg));
  }
  merged->files.push_back(file);
  return Status::Ok();
}

std::string ResolveAgainst(const std::string& kubeconfig_file, const std::string& path) {
  fs::path p(path);
  if (p.is_absolute()) return path;
  return (fs::path(kubeconfig_file).parent_path() / p).lexically_normal().string();
}

// PEM from either `<field>-data` (base64) or `<field>` (a file path), "" when neither is set.
StatusOr<std::string> PemFromDataOrFile(const Entry& entry, std::string_view field,
                                        std::string_view where) {
  std::string data_field = std::string(field) + "-data";
  KUBABASE_ASSIGN_OR_RETURN(std::string data, ScalarField(entry.body, data_field, where));
  if (!data.empty()) {
    std::optional<std::string> decoded = internal::Base64Decode(data);
    if (!decoded) {
      return InvalidArgumentError(fmt::format("{}.{}: not valid base64", where, data_field));
    }
    return *decoded;
  }
  KUBABASE_ASSIGN_OR_RETURN(std::string path, ScalarField(entry.body, field, where));
  if (path.empty()) return std::string();
  std::string resolved = ResolveAgainst(entry.file, path);
  return ReadWholeFile(resolved, fmt::format("{}.{}", where, field));
}

std::string ServerFromHostPort(const std::string& host, const std::string& port) {
  // An IPv6 service address needs brackets in a URL.
  if (host.find(':') != std::string::npos) return fmt::format("https://[{}]:{}", host, port);
  return fmt::format("https://{}:{}", host, port);
}

}  // namespace

namespace internal {

std::optional<std::string> Base64Decode(std::string_view text) {
  // kubeconfigs in the wild wrap long values and drop padding; normalise, then decode strictly.
  std::string compact;
  for (char c : text) {
    if (c != ' ' && c != '\n' && c != '\r' && c != '\t') compact.push_back(c);
  }
  if (compact.size() % 4 != 0 && compact.find('=') == std::string::npos) {
    compact.append((4 - compact.size() % 4) % 4, '=');
  }
  StatusOr<std::string> decoded = kubabase::Base64Decode(compact);
  if (!decoded.ok()) return std::nullopt;
  return *decoded;
}

Status CheckCertificatesPem(std::string_view pem, std::string_view what) {
  if (pem.find("-----BEGIN") == std::string_view::npos) {
    return InvalidArgumentError(fmt::format("{}: not PEM (no -----BEGIN line)", what));
  }
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (bio == nullptr) return InternalError("out of memory reading a certificate");
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  ERR_clear_error();
  if (cert == nullptr) {
    return InvalidArgumentError(fmt::format("{}: holds no readable X.509 certificate", what));
  }
  X509_free(cert);
  return Status::Ok();
}

Status CheckPrivateKeyPem(std::string_view pem, std::string_view what) {
  if (pem.find("-----BEGIN") == std::string_view::npos) {
    return InvalidArgumentError(fmt::format("{}: not PEM (no -----BEGIN line)", what));
  }
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (bio == nullptr) return InternalError("out of memory reading a private key");
  // A null password callback with an empty password: an encrypted key fails instead of prompting.
  char empty[] = "";
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, empty);
  BIO_free(bio);
  ERR_clear_error();
  if (key == nullptr) {
    return InvalidArgumentError(
        fmt::format("{}: holds no readable (unencrypted) private key", what));
  }
  EVP_PKEY_free(key);
  return Status::Ok();
}

}  // namespace internal

// ---- FileTokenSource ----

StatusOr<std::shared_ptr<FileTokenSource>> FileTokenSource::Open(std::string path,
                                                                 const Clock* clock,
                                                                 Clock::Duration max_age) {
  std::shared_ptr<FileTokenSource> source(
      new FileTokenSource(std::move(path), clock != nullptr ? clock : &RealClock::Get(), max_age));
  std::lock_guard lock(source->mu_);
  KUBABASE_RETURN_IF_ERROR(source->ReadLocked());
  return source;
}

Status FileTokenSource::ReadLocked() {
  struct stat info {};
  if (::stat(path_.c_str(), &info) != 0) {
    return NotFoundError(fmt::format("token file {} does not exist", path_));
  }
  KUBABASE_ASSIGN_OR_RETURN(std::string content, ReadWholeFile(path_, "token file"));
  std::string token = Trim(content);
  if (token.empty()) return InvalidArgumentError(fmt::format("token file {} is empty", path_));
  token_ = std::move(token);
  read_at_ = clock_->Now();
  mtime_ns_ = static_cast<int64_t>(info.st_mtim.tv_sec) * 1000000000 + info.st_mtim.tv_nsec;
  size_ = static_cast<int64_t>(info.st_size);
  return Status::Ok();
}

StatusOr<std::string> FileTokenSource::Token() {
  std::lock_guard lock(mu_);
  bool stale = clock_->Now() - read_at_ >= max_age_;
  if (!stale) {
    struct stat info {};
    if (::stat(path_.c_str(), &info) == 0) {
      int64_t mtime_ns =
          static_cast<int64_t>(info.st_mtim.tv_sec) * 1000000000 + info.st_mtim.tv_nsec;
      stale = mtime_ns != mtime_ns_ || static_cast<int64_t>(info.st_size) != size_;
    }
  }
  if (stale) {
    // Keep serving the last good token if the rotation is caught half-way; the apiserver will
    // say 401 if it really expired.
    Status read = ReadLocked();
    if (!read.ok() && token_.empty()) return read;
    if (!read.ok()) read_at_ = clock_->Now();  // retry after max_age, not on every request
  }
  return token_;
}

// ---- kubeconfig ----

StatusOr<ClientConfig> LoadKubeconfigFrom(const KubeconfigSources& sources) {
  std::vector<std::string> files;
  bool must_exist = true;
  if (!sources.explicit_path.empty()) {
    files.push_back(sources.explicit_path);
  } else if (!sources.kubeconfig_env.empty()) {
    must_exist = false;  // kubectl skips missing entries of $KUBECONFIG
    std::stringstream list(sources.kubeconfig_env);
    std::string item;
    while (std::getline(list, item, ':')) {
      if (!item.empty()) files.push_back(item);
    }
  } else if (!sources.home.empty()) {
    files.push_back((fs::path(sources.home) / ".kube" / "config").string());
  }
  if (files.empty()) {
    return NotFoundError("no kubeconfig: no --kubeconfig, $KUBECONFIG or $HOME/.kube/config");
  }

  MergedKubeconfig merged;
  for (const std::string& file : files) {
    std::error_code ec;
    if (!must_exist && !fs::exists(file, ec)) continue;
    KUBABASE_RETURN_IF_ERROR(MergeFile(file, &merged));
  }
  if (merged.files.empty()) {
    return NotFoundError(
        fmt::format("no kubeconfig: none of the files in $KUBECONFIG exist ({})",
                    sources.kubeconfig_env));
  }
  std::string file_list = fmt::format("{}", fmt::join(merged.files, ":"));

  std::string context_name = sources.context;
  if (context_name.empty()) context_name = merged.current_context;
  if (context_name.empty()) {
    return NotFoundError(fmt::format(
        "kubeconfig {}: current-context: not set and no context given", file_list));
  }
  auto context_it = merged.contexts.find(context_name);
  if (context_it == merged.contexts.end()) {
    return NotFoundError(fmt::format("kubeconfig {}: contexts: no context named \"{}\"", file_list,
                                     context_name));
  }
  const Entry& context = context_it->second;
  std::string context_where =
      fmt::format("kubeconfig {}: contexts[\"{}\"].context", context.file, context_name);
  KUBABASE_ASSIGN_OR_RETURN(std::string cluster_name,
                            ScalarField(context.body, "cluster", context_where));
  KUBABASE_ASSIGN_OR_RETURN(std::string user_name, ScalarField(context.body, "user", context_where));
  KUBABASE_ASSIGN_OR_RETURN(std::string ns, ScalarField(context.body, "namespace", context_where));
  if (cluster_name.empty()) return InvalidArgumentError(context_where + ".cluster: missing");

  auto cluster_it = merged.clusters.find(cluster_name);
  if (cluster_it == merged.clusters.end()) {
    return NotFoundError(fmt::format("kubeconfig {}: clusters: no cluster named \"{}\" (used by "
                                     "context \"{}\")",
                                     file_list, cluster_name, context_name));
  }
  const Entry& cluster = cluster_it->second;
  std::string cluster_where =
      fmt::format("kubeconfig {}: clusters[\"{}\"].cluster", cluster.file, cluster_name);

  ClientConfig config;
  config.default_namespace = ns;
  config.description = fmt::format("kubeconfig {} context {}", file_list, context_name);

  KUBABASE_ASSIGN_OR_RETURN(config.server, ScalarField(cluster.body, "server", cluster_where));
  if (config.server.empty()) return InvalidArgumentError(cluster_where + ".server: missing");
  if (config.server.rfind("http://", 0) == 0) {
    return InvalidArgumentError(fmt::format(
        "{}.server: \"{}\" is plain HTTP; kubabase talks to the apiserver only over https:// "
        "(over http:// its token and every Secret it reads would cross the network unencrypted)",
        cluster_where, config.server));
  }
  if (config.server.rfind("https://", 0) != 0) {
    return InvalidArgumentError(
        fmt::format("{}.server: \"{}\" must start with https://", cluster_where, config.server));
  }
  while (!config.server.empty() && config.server.back() == '/') config.server.pop_back();
  KUBABASE_ASSIGN_OR_RETURN(config.insecure_skip_tls_verify,
                            BoolField(cluster.body, "insecure-skip-tls-verify", cluster_where));
  KUBABASE_ASSIGN_OR_RETURN(config.tls_server_name,
                            ScalarField(cluster.body, "tls-server-name", cluster_where));
  KUBABASE_ASSIGN_OR_RETURN(config.ca_pem,
                            PemFromDataOrFile(cluster, "certificate-authority", cluster_where));
  if (!config.ca_pem.empty()) {
    KUBABASE_RETURN_IF_ERROR(
        internal::CheckCertificatesPem(config.ca_pem, cluster_where + ".certificate-authority"));
  }
  if (!config.ca_pem.empty() && config.insecure_skip_tls_verify) {
    // client-go refuses the same (transport.TLSConfigFor): verifying against a CA and not
    // verifying at all cannot both be meant.
    return InvalidArgumentError(fmt::format(
        "{}: certificate-authority(-data) together with insecure-skip-tls-verify: true: "
        "specifying a root certificates file with the insecure flag is not allowed; remove one",
        cluster_where));
  }

  if (user_name.empty()) return config;  // an anonymous context
  auto user_it = merged.users.find(user_name);
  if (user_it == merged.users.end()) {
    return NotFoundError(fmt::format(
        "kubeconfig {}: users: no user named \"{}\" (used by context \"{}\")", file_list,
        user_name, context_name));
  }
  const Entry& user = user_it->second;
  std::string user_where = fmt::format("kubeconfig {}: users[\"{}\"].user", user.file, user_name);

  for (const char* unsupported : {"exec", "auth-provider", "username", "password"}) {
    YAML::Node node = user.body[unsupported];
    if (node.IsDefined() && !node.IsNull()) {
      return UnimplementedError(
          fmt::format("{}.{}: not supported by kubabase; use a token, tokenFile or client "
                      "certificate",
                      user_where, unsupported));
    }
  }

  KUBABASE_ASSIGN_OR_RETURN(config.client_cert_pem,
                            PemFromDataOrFile(user, "client-certificate", user_where));
  KUBABASE_ASSIGN_OR_RETURN(config.client_key_pem, PemFromDataOrFile(user, "client-key", user_where));
  if (!config.client_cert_pem.empty() && config.client_key_pem.empty()) {
    return InvalidArgumentError(user_where + ": client-certificate given without client-key");
  }
  if (config.client_cert_pem.empty() && !config.client_key_pem.empty()) {
    return InvalidArgumentError(user_where + ": client-key given without client-certificate");
  }
  if (!config.client_cert_pem.empty()) {
    KUBABASE_RETURN_IF_ERROR(
        internal::CheckCertificatesPem(config.client_cert_pem, user_where + ".client-certificate"));
    KUBABASE_RETURN_IF_ERROR(
        internal::CheckPrivateKeyPem(config.client_key_pem, user_where + ".client-key"));
  }

  KUBABASE_ASSIGN_OR_RETURN(std::string token_file, ScalarField(user.body, "tokenFile", user_where));
  KUBABASE_ASSIGN_OR_RETURN(std::string token, ScalarField(user.body, "token", user_where));
  if (!token_file.empty()) {
    auto source = FileTokenSource::Open(ResolveAgainst(user.file, token_file), sources.clock);
    if (!source.ok()) return source.status().Annotate(user_where + ".tokenFile");
    config.token = *source;
  } else if (!token.empty()) {
    config.token = std::make_shared<StaticTokenSource>(token);
  }
  return config;
}

StatusOr<ClientConfig> LoadKubeconfig(std::string_view path, std::string_view context) {
  KubeconfigSources sources;
  sources.explicit_path = std::string(path);
  sources.kubeconfig_env = EnvOrEmpty("KUBECONFIG");
  sources.home = EnvOrEmpty("HOME");
  sources.context = std::string(context);
  return LoadKubeconfigFrom(sources);
}

StatusOr<ClientConfig> LoadClientConfig(std::string_view kubeconfig_flag,
                                        std::string_view context) {
  std::string home = EnvOrEmpty("HOME");
  std::error_code ec;
  bool has_kubeconfig = !kubeconfig_flag.empty() || !EnvOrEmpty("KUBECONFIG").empty() ||
                        (!home.empty() && fs::exists(fs::path(home) / ".kube" / "config", ec));
  if (!has_kubeconfig && !EnvOrEmpty("KUBERNETES_SERVICE_HOST").empty()) return InClusterConfig();
  return LoadKubeconfig(kubeconfig_flag, context);
}

// ---- in-cluster ----

StatusOr<ClientConfig> InClusterConfigFrom(const InClusterSources& sources) {
  if (sources.service_host.empty() || sources.service_port.empty()) {
    return NotFoundError(
        "not running in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be "
        "set");
  }
  for (char c : sources.service_port) {
    if (c < '0' || c > '9') {
      return InvalidArgumentError(fmt::format("KUBERNETES_SERVICE_PORT: \"{}\" is not a number",
                                              sources.service_port));
    }
  }
  fs::path dir(sources.secrets_dir);
  ClientConfig config;
  config.server = ServerFromHostPort(sources.service_host, sources.service_port);

  auto token = FileTokenSource::Open((dir / "token").string(), sources.clock);
  if (!token.ok()) return token.status().Annotate("in-cluster service account");
  config.token = *token;

  std::string ca_path = (dir / "ca.crt").string();
  KUBABASE_ASSIGN_OR_RETURN(config.ca_pem, ReadWholeFile(ca_path, "in-cluster CA"));
  KUBABASE_RETURN_IF_ERROR(
      internal::CheckCertificatesPem(config.ca_pem, fmt::format("in-cluster CA {}", ca_path)));

  std::string ns_path = (dir / "namespace").string();
  std::error_code ec;
  if (fs::exists(ns_path, ec)) {
    KUBABASE_ASSIGN_OR_RETURN(std::string ns, ReadWholeFile(ns_path, "in-cluster namespace"));
    config.default_namespace = Trim(ns);
  }
  config.description = fmt::format("in-cluster {} (service account in {})", config.server,
                                   sources.secrets_dir);
  return config;
}

StatusOr<ClientConfig> InClusterConfig() {
  InClusterSources sources;
  sources.service_host = EnvOrEmpty("KUBERNETES_SERVICE_HOST");
  sources.service_port = EnvOrEmpty("KUBERNETES_SERVICE_PORT");
  return InClusterConfigFrom(sources);
}

}  // namespace kubabase::kube
