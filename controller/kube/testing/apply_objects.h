// Objects for tests of apply and Matches: a Deployment as render would write it, and the same
// object as the apiserver hands it back (its defaults, metadata and status added).
#pragma once

#include <string>

#include "controller/kube/resource.h"

namespace kubabase::kube::testing {

inline Json Deployment(int replicas, const std::string& memory = "1Gi") {
  return Json::parse(R"({"apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "rest", "namespace": "project-a", "labels": {"kubabase.io/project": "a"}},
    "spec": {"replicas": 1, "template": {"spec": {"containers": [
      {"name": "rest", "image": "postgrest/postgrest:v14.5",
       "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}},
       "env": [{"name": "A", "value": "1"}]}]}}}})")
      .patch(Json::array({{{"op", "replace"}, {"path", "/spec/replicas"}, {"value", replicas}},
                          {{"op", "replace"},
                           {"path", "/spec/template/spec/containers/0/resources/requests/memory"},
                           {"value", memory}}}));
}

// What the apiserver hands back: the same fields, plus defaults, status and metadata it owns.
inline Json AsObserved(Json object) {
  object["metadata"]["uid"] = "1234";
  object["metadata"]["resourceVersion"] = "77";
  object["metadata"]["labels"]["extra"] = "added-by-someone";
  object["spec"]["strategy"] = {{"type", "RollingUpdate"}};
  object["spec"]["template"]["spec"]["containers"][0]["terminationMessagePath"] =
      "/dev/termination-log";
  object["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] = "IfNotPresent";
  object["status"] = {{"readyReplicas", 1}};
  return object;
}

}  // namespace kubabase::kube::testing
