// Metrics: the process's Prometheus registry and the runtime's metric families, in one place.
//
//   Metrics metrics;                                  // one per process, shared by reference
//   metrics.ApiRequest("GET", "deployments.apps", 200, 0.004);
//   metrics.registry();                               // handed to the /metrics exposer
//
// Families (all prefixed kubabase_):
//   api_requests_total{verb,resource,code}            counter
//   api_request_duration_seconds{verb,resource}       histogram
//   reconcile_total{controller,result}                counter  (result: success|error|requeue)
//   reconcile_errors_total{controller}                counter
//   reconcile_duration_seconds{controller}            histogram
//   workqueue_depth{name}                             gauge
//   workqueue_adds_total{name}                        counter
//   workqueue_retries_total{name}                     counter
//   workqueue_longest_running_processor_seconds{name} gauge
//   watch_restarts_total{resource}                    counter
//   watch_relists_total{resource}                     counter
//   watch_events_total{resource,type}                 counter
//   cache_objects{resource}                           gauge
//   cache_ignored_total{resource}                     counter  (refused by the Store's Filter)
//   leader_is_leader                                  gauge
//   events_posted_total{result}                       counter
// Components add their own families through registry().
//
// Thread-safe: prometheus-cpp families and metrics may be used from any thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace kubabase::kube {

class Metrics {
 public:
  Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  std::shared_ptr<prometheus::Registry> registry() const { return registry_; }

  // One finished API request. `code` is the HTTP status, or 0 when no response arrived.
  void ApiRequest(std::string_view verb, std::string_view resource, int code, double seconds);

  prometheus::Family<prometheus::Counter>& api_requests() { return *api_requests_; }
  prometheus::Family<prometheus::Histogram>& api_request_duration() { return *api_latency_; }
  prometheus::Family<prometheus::Counter>& reconcile_total() { return *reconcile_total_; }
  prometheus::Family<prometheus::Counter>& reconcile_errors() { return *reconcile_errors_; }
  prometheus::Family<prometheus::Histogram>& reconcile_duration() { return *reconcile_duration_; }
  prometheus::Family<prometheus::Gauge>& queue_depth() { return *queue_depth_; }
  prometheus::Family<prometheus::Counter>& queue_adds() { return *queue_adds_; }
  prometheus::Family<prometheus::Counter>& queue_retries() { return *queue_retries_; }
  prometheus::Family<prometheus::Gauge>& queue_longest_running() { return *queue_longest_; }
  prometheus::Family<prometheus::Counter>& watch_restarts() { return *watch_restarts_; }
  prometheus::Family<prometheus::Counter>& watch_relists() { return *watch_relists_; }
  prometheus::Family<prometheus::Counter>& watch_events() { return *watch_events_; }
  prometheus::Family<prometheus::Gauge>& cache_objects() { return *cache_objects_; }
  prometheus::Family<prometheus::Counter>& cache_ignored() { return *cache_ignored_; }
  prometheus::Family<prometheus::Gauge>& leader() { return *leader_; }
  prometheus::Family<prometheus::Counter>& events_posted() { return *events_posted_; }

  // Default latency buckets (seconds) for API requests and reconciles.
  static const prometheus::Histogram::BucketBoundaries& LatencyBuckets();

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>* api_requests_;
  prometheus::Family<prometheus::Histogram>* api_latency_;
  prometheus::Family<prometheus::Counter>* reconcile_total_;
  prometheus::Family<prometheus::Counter>* reconcile_errors_;
  prometheus::Family<prometheus::Histogram>* reconcile_duration_;
  prometheus::Family<prometheus::Gauge>* queue_depth_;
  prometheus::Family<prometheus::Counter>* queue_adds_;
  prometheus::Family<prometheus::Counter>* queue_retries_;
  prometheus::Family<prometheus::Gauge>* queue_longest_;
  prometheus::Family<prometheus::Counter>* watch_restarts_;
  prometheus::Family<prometheus::Counter>* watch_relists_;
  prometheus::Family<prometheus::Counter>* watch_events_;
  prometheus::Family<prometheus::Gauge>* cache_objects_;
  prometheus::Family<prometheus::Counter>* cache_ignored_;
  prometheus::Family<prometheus::Gauge>* leader_;
  prometheus::Family<prometheus::Counter>* events_posted_;
};

}  // namespace kubabase::kube
