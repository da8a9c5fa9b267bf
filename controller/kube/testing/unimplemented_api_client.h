// UnimplementedApiClient: the base of test fakes of ApiClient. Every verb returns kUnimplemented
// naming the verb ("Get", or "FakeApiClient: Get" when constructed with a fake's name); a fake
// derives from it and overrides only the verbs its test uses, so a call it did not expect fails
// loudly instead of silently succeeding.
//
//   class FakeLeaseClient : public testing::UnimplementedApiClient {
//    public:
//     StatusOr<Json> Get(const Resource&, std::string_view, std::string_view,
//                        std::string_view) override { ... }
//   };
//
// Holds no state of its own; thread-safe.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "controller/kube/api_client.h"

namespace kubabase::kube::testing {

class UnimplementedApiClient : public ApiClient {
 public:
  StatusOr<Json> Get(const Resource&, std::string_view, std::string_view,
                     std::string_view) override {
    return Unimplemented("Get");
  }
  StatusOr<Json> List(const Resource&, std::string_view, const ListOptions&) override {
    return Unimplemented("List");
  }
  StatusOr<Json> Create(const Resource&, std::string_view, const Json&) override {
    return Unimplemented("Create");
  }
  StatusOr<Json> Update(const Resource&, std::string_view, std::string_view, const Json&,
                        std::string_view) override {
    return Unimplemented("Update");
  }
  StatusOr<Json> MergePatch(const Resource&, std::string_view, std::string_view, const Json&,
                            std::string_view) override {
    return Unimplemented("MergePatch");
  }
  StatusOr<Json> Apply(const Resource&, std::string_view, std::string_view, const Json&,
                       const ApplyOptions&) override {
    return Unimplemented("Apply");
  }
  Status Delete(const Resource&, std::string_view, std::string_view,
                const DeleteOptions&) override {
    return Unimplemented("Delete");
  }
  StatusOr<std::unique_ptr<WatchStream>> Watch(const Resource&, std::string_view,
                                               const WatchOptions&) override {
    return Unimplemented("Watch");
  }

 protected:
  UnimplementedApiClient() = default;
  // `fake_name` prefixes every message: "<fake_name>: <verb>".
  explicit UnimplementedApiClient(std::string fake_name) : fake_name_(std::move(fake_name)) {}

 private:
  Status Unimplemented(std::string_view verb) const {
    return UnimplementedError(fake_name_.empty() ? std::string(verb)
                                                 : fake_name_ + ": " + std::string(verb));
  }

  const std::string fake_name_;
};

}  // namespace kubabase::kube::testing
