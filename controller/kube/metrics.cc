#include "controller/kube/metrics.h"

#include <string>

namespace kubabase::kube {

Metrics::Metrics() : registry_(std::make_shared<prometheus::Registry>()) {
  using prometheus::BuildCounter;
  using prometheus::BuildGauge;
  using prometheus::BuildHistogram;
  auto& r = *registry_;
  api_requests_ = &BuildCounter().Name("kubabase_api_requests_total")
                       .Help("Kubernetes API requests by verb, resource and HTTP code (0: no response).")
                       .Register(r);
  api_latency_ = &BuildHistogram().Name("kubabase_api_request_duration_seconds")
                      .Help("Kubernetes API request latency by verb and resource.")
                      .Register(r);
  reconcile_total_ = &BuildCounter().Name("kubabase_reconcile_total")
                          .Help("Reconciles by controller and result (success, error, requeue).")
                          .Register(r);
  reconcile_errors_ = &BuildCounter().Name("kubabase_reconcile_errors_total")
                           .Help("Reconciles that returned an error.")
                           .Register(r);
  reconcile_duration_ = &BuildHistogram().Name("kubabase_reconcile_duration_seconds")
                             .Help("Time spent in one reconcile.")
                             .Register(r);
  queue_depth_ = &BuildGauge().Name("kubabase_workqueue_depth")
                      .Help("Keys waiting in the work queue.")
                      .Register(r);
  queue_adds_ = &BuildCounter().Name("kubabase_workqueue_adds_total")
                     .Help("Keys added to the work queue.")
                     .Register(r);
  queue_retries_ = &BuildCounter().Name("kubabase_workqueue_retries_total")
                        .Help("Keys re-added with backoff after an error.")
                        .Register(r);
  queue_longest_ = &BuildGauge().Name("kubabase_workqueue_longest_running_processor_seconds")
                        .Help("How long the longest-running reconcile has been running.")
                        .Register(r);
  watch_restarts_ = &BuildCounter().Name("kubabase_watch_restarts_total")
                         .Help("Watches re-opened after they ended or failed.")
                         .Register(r);
  watch_relists_ = &BuildCounter().Name("kubabase_watch_relists_total")
                        .Help("Full re-lists (after 410 Gone or a failed watch start).")
                        .Register(r);
  watch_events_ = &BuildCounter().Name("kubabase_watch_events_total")
                       .Help("Watch events received by resource and type.")
                       .Register(r);
  cache_objects_ = &BuildGauge().Name("kubabase_cache_objects")
                        .Help("Objects held in the informer cache by resource.")
                        .Register(r);
  cache_ignored_ = &BuildCounter().Name("kubabase_cache_ignored_total")
                        .Help("Objects a watch delivered that the cache would not hold (not the "
                              "controller's, e.g. outside the namespaces it manages), by resource.")
                        .Register(r);
  leader_ = &BuildGauge().Name("kubabase_leader_is_leader")
                 .Help("1 while this process holds the leader Lease.")
                 .Register(r);
  events_posted_ = &BuildCounter().Name("kubabase_events_posted_total")
                        .Help("core/v1 Events written, by result (created, updated, dropped, failed).")
                        .Register(r);
}

const prometheus::Histogram::BucketBoundaries& Metrics::LatencyBuckets() {
  static const auto* const kBuckets = new prometheus::Histogram::BucketBoundaries{
      0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
  return *kBuckets;
}

void Metrics::ApiRequest(std::string_view verb, std::string_view resource, int code,
                         double seconds) {
  api_requests_->Add({{"verb", std::string(verb)}, {"resource", std::string(resource)},
                      {"code", std::to_string(code)}}).Increment();
  api_latency_->Add({{"verb", std::string(verb)}, {"resource", std::string(resource)}},
                    LatencyBuckets()).Observe(seconds);
}

}  // namespace kubabase::kube
