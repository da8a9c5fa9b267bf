// fork + execvpe with output redirected to unlinked temp files (not pipes: a child that fills a
// pipe we are not reading would block; one that hands its stdout to a daemon would keep it open).
#include "tests/database/subprocess.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

namespace kubabase::testing {

namespace {

// An anonymous file: created and unlinked at once, so nothing is left behind.
int AnonymousFile() {
  char path[] = "/tmp/kubabase-subprocess-XXXXXX";
  int fd = mkstemp(path);
  if (fd >= 0) unlink(path);
  return fd;
}

std::string ReadAll(int fd) {
  std::string data;
  if (lseek(fd, 0, SEEK_SET) < 0) return data;
  char buffer[8192];
  for (;;) {
    ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    data.append(buffer, static_cast<size_t>(n));
  }
  return data;
}

}  // namespace

std::string Subprocess::Result::Describe() const {
  std::string text = error.empty() ? "exit " + std::to_string(exit_code) : error;
  if (!out.empty()) text += "; stdout: " + out;
  if (!err.empty()) text += "; stderr: " + err;
  return text;
}

Subprocess::Result Subprocess::Run(const std::vector<std::string>& argv, const Env& env,
                                   std::chrono::seconds timeout) {
  Result result;
  int out_fd = AnonymousFile();
  int err_fd = AnonymousFile();
  if (out_fd < 0 || err_fd < 0) {
    result.error = std::string("cannot create output files: ") + std::strerror(errno);
    if (out_fd >= 0) close(out_fd);
    if (err_fd >= 0) close(err_fd);
    return result;
  }

  // Everything the child needs is built before fork: after it, only async-signal-safe calls.
  std::vector<std::string> env_strings;
  for (const auto& [name, value] : env) env_strings.push_back(name + "=" + value);
  std::vector<char*> c_argv;
  for (const std::string& arg : argv) c_argv.push_back(const_cast<char*>(arg.c_str()));
  c_argv.push_back(nullptr);
  std::vector<char*> c_env;
  for (std::string& entry : env_strings) c_env.push_back(entry.data());
  c_env.push_back(nullptr);
  // execvpe searches the caller's PATH, not the child's env; resolve it here instead.
  std::string program = argv.at(0);
  if (program.find('/') == std::string::npos) {
    auto path = env.find("PATH");
    std::string dirs = path == env.end() ? "/usr/bin:/bin" : path->second;
    size_t start = 0;
    while (start <= dirs.size()) {
      size_t end = dirs.find(':', start);
      if (end == std::string::npos) end = dirs.size();
      std::string candidate = dirs.substr(start, end - start) + "/" + argv[0];
      if (access(candidate.c_str(), X_OK) == 0) {
        program = candidate;
        break;
      }
      start = end + 1;
    }
  }

  pid_t pid = fork();
  if (pid < 0) {
    result.error = std::string("fork: ") + std::strerror(errno);
    close(out_fd);
    close(err_fd);
    return result;
  }
  if (pid == 0) {
    setpgid(0, 0);
    int null_fd = open("/dev/null", O_RDONLY);
    if (null_fd >= 0) dup2(null_fd, STDIN_FILENO);
    dup2(out_fd, STDOUT_FILENO);
    dup2(err_fd, STDERR_FILENO);
    // Nothing else we hold (sockets, other tests' files) leaks into the child.
    for (int fd = 3; fd < 1024; ++fd) close(fd);
    execve(program.c_str(), c_argv.data(), c_env.data());
    _exit(127);
  }
  setpgid(pid, pid);  // also from here, so the group exists before any kill below

  auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  for (;;) {
    pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    if (done < 0 && errno != EINTR) {
      result.error = std::string("waitpid: ") + std::strerror(errno);
      break;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      kill(-pid, SIGKILL);
      waitpid(pid, &status, 0);
      result.error = "timed out after " + std::to_string(timeout.count()) + "s: " + argv[0];
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (result.error.empty()) {
    if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) result.exit_code = 128 + WTERMSIG(status);
  }
  result.out = ReadAll(out_fd);
  result.err = ReadAll(err_fd);
  close(out_fd);
  close(err_fd);
  return result;
}

}  // namespace kubabase::testing
