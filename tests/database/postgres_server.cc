#include "tests/database/postgres_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

namespace kubabase::testing {

namespace {

namespace fs = std::filesystem;

constexpr char kDefaultBindir[] = "/usr/lib/postgresql/15/bin";
constexpr char kInstallHint[] =
    "PostgreSQL 15 server binaries are needed: install Debian's postgresql-15 "
    "(scripts/install-deps.sh does) or point KUBABASE_PG_BINDIR at a PostgreSQL 15 bin directory";

// A port nobody listens on now. Another process could take it before the server binds it; the
// server then fails to start and says so.
int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    port = ntohs(address.sin_port);
  }
  close(fd);
  return port;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string Chomp(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

bool Executable(const std::string& path) { return access(path.c_str(), X_OK) == 0; }

}  // namespace

PostgresServer::~PostgresServer() { (void)Stop(); }

std::vector<std::string> PostgresServer::AsServerUser(std::vector<std::string> argv) const {
  if (!run_as_postgres_user_) return argv;
  std::vector<std::string> prefixed;
  if (Executable("/usr/sbin/runuser") || Executable("/sbin/runuser")) {
    prefixed = {Executable("/usr/sbin/runuser") ? "/usr/sbin/runuser" : "/sbin/runuser", "-u",
                "postgres", "--"};
  } else {
    prefixed = {"setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--"};
  }
  prefixed.insert(prefixed.end(), argv.begin(), argv.end());
  return prefixed;
}

Subprocess::Env PostgresServer::BaseEnv() const {
  return {{"PATH", bindir_ + ":/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"},
          {"LANG", "C.UTF-8"},
          {"HOME", dir_.empty() ? "/tmp" : dir_}};
}

std::string PostgresServer::Start(const std::string& superuser,
                                  const std::string& superuser_password) {
  superuser_ = superuser;
  const char* override_bindir = getenv("KUBABASE_PG_BINDIR");
  bindir_ = override_bindir != nullptr && *override_bindir != '\0' ? override_bindir
                                                                   : kDefaultBindir;
  for (const char* tool : {"initdb", "pg_ctl", "postgres", "psql", "pg_isready"}) {
    if (!Executable(bindir_ + "/" + tool)) {
      return std::string(kInstallHint) + " (" + bindir_ + "/" + tool + " is missing)";
    }
  }
  Subprocess::Result version = Subprocess::Run({bindir_ + "/postgres", "--version"}, BaseEnv());
  if (!version.ok() || version.out.find(" 15.") == std::string::npos) {
    return std::string(kInstallHint) + " (" + bindir_ + "/postgres --version says: " +
           Chomp(version.out) + ")";
  }

  run_as_postgres_user_ = geteuid() == 0;
  passwd* postgres_user = nullptr;
  if (run_as_postgres_user_) {
    postgres_user = getpwnam("postgres");
    if (postgres_user == nullptr) {
      return "running as root, initdb needs the `postgres` system user (postgresql-15 creates it)";
    }
  }

  char dir_template[] = "/tmp/kubabase-pg-XXXXXX";  // short: the socket path has a length limit
  if (mkdtemp(dir_template) == nullptr) return std::string("mkdtemp: ") + std::strerror(errno);
  dir_ = dir_template;
  std::string password_file = dir_ + "/superuser-password";
  {
    std::ofstream out(password_file);
    out << superuser_password << "\n";
  }
  if (run_as_postgres_user_ &&
      (chown(dir_.c_str(), postgres_user->pw_uid, postgres_user->pw_gid) != 0 ||
       chown(password_file.c_str(), postgres_user->pw_uid, postgres_user->pw_gid) != 0)) {
    return std::string("chown to postgres: ") + std::strerror(errno);
  }

  Subprocess::Result init = Subprocess::Run(
      AsServerUser({bindir_ + "/initdb", "-D", dir_ + "/data", "-U", superuser_,
                    "--pwfile=" + password_file, "--auth-local=trust",
                    "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync"}),
      BaseEnv());
  fs::remove(password_file);
  if (!init.ok()) return "initdb failed: " + init.Describe();

  port_ = FreePort();
  if (port_ == 0) return "no free TCP port on 127.0.0.1";
  std::string options = "-p " + std::to_string(port_) + " -k " + dir_ +
                        " -c listen_addresses=127.0.0.1 -c log_statement=all -c fsync=off"
                        " -c full_page_writes=off -c synchronous_commit=off"
                        " -c shared_preload_libraries=pg_stat_statements";
  Subprocess::Result start = Subprocess::Run(
      AsServerUser({bindir_ + "/pg_ctl", "-D", dir_ + "/data", "-l", dir_ + "/server.log", "-o",
                    options, "-w", "-t", "60", "start"}),
      BaseEnv());
  // The postmaster writes its pid first thing; read it even when start failed, to clean up.
  std::ifstream pid_file(dir_ + "/data/postmaster.pid");
  pid_file >> postmaster_pid_;
  if (!start.ok()) return "pg_ctl start failed: " + start.Describe() + "; log: " + ServerLog();
  if (postmaster_pid_ <= 0) return "the server started but wrote no postmaster.pid";
  return "";
}

std::string PostgresServer::Stop() {
  if (dir_.empty()) return "";
  std::string error;
  if (postmaster_pid_ > 0 && PostmasterAlive()) {
    // Immediate: the cluster is thrown away, nothing needs a clean checkpoint.
    Subprocess::Result stop = Subprocess::Run(
        AsServerUser({bindir_ + "/pg_ctl", "-D", dir_ + "/data", "-m", "immediate", "-w", "-t",
                      "30", "stop"}),
        BaseEnv(), std::chrono::seconds(60));
    if (!stop.ok()) error = "pg_ctl stop failed: " + stop.Describe();
    // pg_ctl returns once postmaster.pid is gone, which the postmaster removes just before it
    // exits; give it a moment to finish exiting.
    for (int i = 0; i < 500 && PostmasterAlive(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (PostmasterAlive()) {
      kill(postmaster_pid_, SIGKILL);
      // The postmaster is not our child (pg_ctl's shell started it), so poll instead of waitpid.
      for (int i = 0; i < 500 && PostmasterAlive(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      if (error.empty()) error = "pg_ctl stop left the postmaster running; killed it";
    }
  }
  std::error_code ignored;
  fs::remove_all(dir_, ignored);
  dir_.clear();
  return error;
}

bool PostgresServer::PostmasterAlive() const {
  if (postmaster_pid_ <= 0) return false;
  if (kill(postmaster_pid_, 0) != 0) return errno == EPERM;
  // A zombie (reparented to us when we are init, e.g. in a container) is gone for our purposes.
  std::ifstream stat("/proc/" + std::to_string(postmaster_pid_) + "/stat");
  std::string pid, comm, state;
  stat >> pid >> comm >> state;
  return state != "Z";
}

Subprocess::Result PostgresServer::Psql(const std::string& sql,
                                        const std::string& database) const {
  return Subprocess::Run({bindir_ + "/psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h", dir_,
                          "-p", std::to_string(port_), "-U", superuser_, "-d", database, "-c",
                          sql},
                         BaseEnv());
}

std::string PostgresServer::Query(const std::string& sql) const {
  Subprocess::Result result = Psql(sql);
  if (!result.ok()) {
    ADD_FAILURE() << "query failed: " << sql << ": " << result.Describe();
    return "";
  }
  return Chomp(result.out);
}

Subprocess::Result PostgresServer::PsqlAs(const std::string& user, const std::string& password,
                                          const std::string& sql) const {
  Subprocess::Env env = BaseEnv();
  env["PGPASSWORD"] = password;
  env["PGCONNECT_TIMEOUT"] = "10";
  return Subprocess::Run({bindir_ + "/psql", "-X", "-q", "-At", "-w", "-v", "ON_ERROR_STOP=1", "-h",
                          "127.0.0.1", "-p", std::to_string(port_), "-U", user, "-d", "postgres",
                          "-c", sql},
                         env);
}

std::string PostgresServer::ServerLog() const {
  return dir_.empty() ? "" : ReadFile(dir_ + "/server.log");
}

}  // namespace kubabase::testing
