// kubectl-kubabase: the `kubectl kubabase` plugin (kubectl runs any kubectl-<name> on PATH).
// Wiring only: arguments, kubeconfig, client; the behaviour is in plugin.h.
#include <iostream>
#include <string>
#include <vector>

#include "controller/kube/http_api_client.h"
#include "controller/kube/kubeconfig.h"
#include "controller/plugin/plugin.h"

int main(int argc, char** argv) {
  using namespace kubabase;
  std::vector<std::string> args(argv + 1, argv + argc);
  StatusOr<plugin::Invocation> invocation = plugin::ParseArgs(args);
  if (!invocation.ok()) {
    std::cerr << "error: " << invocation.status().message() << "\n\n" << plugin::Usage();
    return 2;
  }
  if (invocation->command == plugin::Command::kHelp) {
    std::cout << plugin::Usage();
    return 0;
  }
  // The user's kubeconfig, as kubectl reads it (in-cluster when none and running in a pod).
  StatusOr<kube::ClientConfig> config =
      kube::LoadClientConfig(invocation->kubeconfig, invocation->context);
  if (!config.ok()) {
    std::cerr << "error: " << config.status().message() << "\n";
    return 1;
  }
  kube::HttpApiClientOptions options;
  options.user_agent = "kubectl-kubabase";
  options.request_timeout = std::chrono::seconds(30);
  StatusOr<std::unique_ptr<kube::HttpApiClient>> client = kube::HttpApiClient::Create(*config, options);
  if (!client.ok()) {
    std::cerr << "error: " << client.status().message() << "\n";
    return 1;
  }
  return plugin::RunPlugin(*invocation, **client, std::cout, std::cerr);
}
