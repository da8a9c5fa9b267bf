// EventRecorder against the real kube-apiserver of the local control plane: the Events we build
// pass the apiserver's validation (namespaced and cluster-scoped objects, a message at the 1 KiB
// limit), and a repeat is folded into one Event with count 2.
//
// Needs KUBABASE_CLUSTER_DIR (kubeconfig at $KUBABASE_CLUSTER_DIR/kubeconfig); see
// tests/cluster/README.md.
#include <chrono>
#include <string>

#include <gtest/gtest.h>

#include "controller/base/clock.h"
#include "controller/kube/event_recorder.h"
#include "controller/kube/http_api_client.h"
#include "controller/kube/metrics.h"
#include "tests/integration/client_support.h"

namespace kubabase::kube {
namespace {

constexpr char kNamespace[] = "default";

class EventsIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto client = testing::ClusterClient({.request_timeout = std::chrono::seconds(5)});
    ASSERT_TRUE(client.ok()) << client.status().ToString();
    client_ = std::move(*client);
    name_ = "kubabase-events-it-" + testing::RandomSuffix();
  }
  void TearDown() override {
    if (client_ == nullptr) return;
    client_->Delete(Resource::ConfigMaps(), kNamespace, name_).IgnoreError();
    client_->Delete(Resource::Namespaces(), "", name_).IgnoreError();
    for (const Json& event : EventsAbout(name_)) {
      client_->Delete(Resource::Events(), event["metadata"]["namespace"].get<std::string>(),
                      event["metadata"]["name"].get<std::string>())
          .IgnoreError();
    }
  }

  // Events in the default namespace whose involvedObject has `name`.
  Json EventsAbout(const std::string& name) {
    ListOptions options;
    options.field_selector = "involvedObject.name=" + name;
    StatusOr<Json> list = client_->List(Resource::Events(), kNamespace, options);
    EXPECT_TRUE(list.ok()) << list.status().ToString();
    return list.ok() ? (*list)["items"] : Json::array();
  }

  double Posted(const std::string& result) {
    return metrics_.events_posted().Add({{"result", result}}).Value();
  }

  std::unique_ptr<HttpApiClient> client_;
  Metrics metrics_;
  std::string name_;
};

TEST_F(EventsIntegrationTest, ARepeatedEventIsStoredOnceWithCountTwo) {
  const Json config_map = {{"apiVersion", "v1"},
                           {"kind", "ConfigMap"},
                           {"metadata", {{"name", name_}, {"namespace", kNamespace}}},
                           {"data", {{"k", "v"}}}};
  StatusOr<Json> created = client_->Create(Resource::ConfigMaps(), kNamespace, config_map);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  const ObjectReference ref = ObjectReference::FromObject(*created);

  EventRecorder recorder(*client_, RealClock::Get(), {}, &metrics_);
  recorder.Start();
  recorder.Warning(ref, "ApplyFailed", "server-side apply was rejected: field is immutable");
  recorder.Warning(ref, "ApplyFailed", "server-side apply was rejected: field is immutable");
  recorder.Normal(ref, "Applied", "configuration applied");
  recorder.Stop();

  EXPECT_EQ(Posted("created"), 2);
  EXPECT_EQ(Posted("updated"), 1);
  EXPECT_EQ(Posted("failed"), 0);
  const Json events = EventsAbout(name_);
  ASSERT_EQ(events.size(), 2u) << events.dump(2);
  const Json* warning = nullptr;
  for (const Json& e : events) {
    if (e["reason"] == "ApplyFailed") warning = &e;
  }
  ASSERT_NE(warning, nullptr) << events.dump(2);
  EXPECT_EQ((*warning)["count"], 2);
  EXPECT_EQ((*warning)["type"], "Warning");
  EXPECT_EQ((*warning)["involvedObject"]["uid"], ref.uid);
  EXPECT_EQ((*warning)["involvedObject"]["kind"], "ConfigMap");
  EXPECT_EQ((*warning)["source"]["component"], "kubabase");
  EXPECT_EQ((*warning)["reportingComponent"], "kubabase");
  EXPECT_FALSE((*warning)["reportingInstance"].get<std::string>().empty());
  EXPECT_GE((*warning)["lastTimestamp"].get<std::string>(),
            (*warning)["firstTimestamp"].get<std::string>());
  EXPECT_TRUE(warning->contains("eventTime"));
}

TEST_F(EventsIntegrationTest, EventsAboutAClusterScopedObjectAreAcceptedInTheDefaultNamespace) {
  const Json ns = {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", name_}}}};
  StatusOr<Json> created = client_->Create(Resource::Namespaces(), "", ns);
  ASSERT_TRUE(created.ok()) << created.status().ToString();

  EventRecorder recorder(*client_, RealClock::Get(), {}, &metrics_);
  recorder.Normal(ObjectReference::FromObject(*created), "Provisioned", "namespace ready");
  recorder.Stop();  // drains on this thread

  EXPECT_EQ(Posted("created"), 1);
  const Json events = EventsAbout(name_);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["metadata"]["namespace"], "default");
  EXPECT_EQ(events[0]["involvedObject"]["kind"], "Namespace");
}

TEST_F(EventsIntegrationTest, AMessageOverOneKibibyteIsTruncatedToWhatTheApiserverAccepts) {
  const Json config_map = {{"apiVersion", "v1"},
                           {"kind", "ConfigMap"},
                           {"metadata", {{"name", name_}, {"namespace", kNamespace}}}};
  StatusOr<Json> created = client_->Create(Resource::ConfigMaps(), kNamespace, config_map);
  ASSERT_TRUE(created.ok()) << created.status().ToString();

  EventRecorder recorder(*client_, RealClock::Get(), {}, &metrics_);
  recorder.Warning(ObjectReference::FromObject(*created), "Long", std::string(5000, 'm'));
  recorder.Stop();

  EXPECT_EQ(Posted("failed"), 0);
  const Json events = EventsAbout(name_);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["message"].get<std::string>().size(), 1024u);
}

}  // namespace
}  // namespace kubabase::kube
