// Proves, field by field, that Matches (kube/apply.h) cannot silently miss drift: for every field of
// every object render produces for the cases of testing/matches_fixtures.h, changing it or deleting
// it in the observed copy makes Matches false. The few mutations that must still match are named
// tests of their own, each a rule of kube/apply.h:
// - a quantity spelled differently but equal in value, and only where the apiserver rewrites
//   quantities (tests/integration/matches_apiserver_test.cc shows it does, and where);
// - fields only the observed object has (the apiserver's defaults, other managers' fields).
// The other half of the proof, that Matches accepts what the real apiserver returns for these
// objects, is tests/integration/matches_apiserver_test.cc.
#include <cmath>
#include <functional>
#include <regex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "controller/base/quantity.h"
#include "controller/kube/apply.h"
#include "controller/project/testing/matches_fixtures.h"

namespace kubabase::project {
namespace {

using kube::Matches;
using Pointer = Json::json_pointer;

struct Rendered {
  std::string label;
  std::vector<Json> objects;
};

std::vector<Rendered> RenderCases() {
  std::vector<Rendered> out;
  for (const testing::MatchesCase& c : testing::MatchesCases()) {
    StatusOr<std::vector<Json>> objects = testing::RenderForMatches(c.project, c.defaults);
    EXPECT_TRUE(objects.ok()) << c.label << ": " << objects.status().ToString();
    if (objects.ok()) out.push_back({c.label, *objects});
  }
  return out;
}

// Every node below the root of `value`, depth first, parents before children.
void ForEachNode(const Json& value, const Pointer& at,
                 const std::function<void(const Pointer&, const Json&)>& visit) {
  if (!at.empty()) visit(at, value);
  if (value.is_object()) {
    for (const auto& [key, child] : value.items()) ForEachNode(child, at / key, visit);
  } else if (value.is_array()) {
    for (size_t i = 0; i < value.size(); ++i) ForEachNode(value[i], at / i, visit);
  }
}

Json Erased(Json object, const Pointer& at) {
  Json& parent = object[at.parent_pointer()];
  if (parent.is_array()) {
    parent.erase(std::stoul(at.back()));
  } else {
    parent.erase(at.back());
  }
  return object;
}

Json With(Json object, const Pointer& at, Json value) {
  object[at] = std::move(value);
  return object;
}

std::string Where(const Rendered& c, const Json& object, const Pointer& at) {
  return c.label + " " + object["kind"].get<std::string>() + "/" +
         object["metadata"]["name"].get<std::string>() + " " + at.to_string();
}

// Values that differ from `value` in a way no canonicalisation explains.
std::vector<Json> Changed(const Json& value) {
  switch (value.type()) {
    case Json::value_t::string: {
      const std::string& s = value.get_ref<const std::string&>();
      std::vector<Json> out = {s + "-drift", Json(nullptr), true};
      if (!s.empty()) out.push_back("");
      return out;
    }
    case Json::value_t::boolean:
      return {!value.get<bool>(), Json(nullptr), value.get<bool>() ? "true" : "false"};
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned: {
      int64_t n = value.get<int64_t>();
      std::vector<Json> out = {n + 1, Json(nullptr)};
      if (n != 0) out.push_back(0);
      return out;
    }
    case Json::value_t::number_float:
      return {value.get<double>() + 0.5, Json(nullptr)};
    case Json::value_t::array:
      return value.empty() ? std::vector<Json>{"drift", Json::array({"drift"}), Json::object()}
                           : std::vector<Json>{"drift", Json::array()};
    case Json::value_t::object:
      return {"drift", Json::array(), Json(nullptr)};
    default:
      return {"drift"};
  }
}

// Where the apiserver rewrites a quantity in its canonical form: the values of a
// ResourceRequirements (containers of a pod template, a PVC, a StatefulSet's claim templates).
// Stated here on its own, not read from kube/apply.cc: this is the specification Matches is held to.
bool AtQuantityPath(const Pointer& at) {
  // ResourceRequirements of pod templates, PVCs and claim templates; a ResourceQuota's spec.hard;
  // a LimitRange's per-item default, defaultRequest, max and min (all resource.Quantity).
  static const std::regex kQuantityPath(
      "^((/spec/template/spec/containers/[0-9]+|/spec|/spec/volumeClaimTemplates/[0-9]+/spec)"
      "/resources/(requests|limits)|/spec/hard|/spec/limits/[0-9]+/"
      "(default|defaultRequest|max|min))/[^/]+$");
  return std::regex_match(at.to_string(), kQuantityPath);
}

TEST(MatchesProof, EveryRenderedObjectMatchesItself) {
  std::vector<Rendered> cases = RenderCases();
  ASSERT_EQ(cases.size(), testing::MatchesCases().size());
  for (const Rendered& c : cases) {
    EXPECT_GE(c.objects.size(), 15u) << c.label;
    for (const Json& object : c.objects) {
      EXPECT_TRUE(Matches(object, object)) << Where(c, object, Pointer());
    }
  }
}

TEST(MatchesProof, ChangingAnyFieldIsDrift) {
  int checked = 0;
  for (const Rendered& c : RenderCases()) {
    for (const Json& desired : c.objects) {
      ForEachNode(desired, Pointer(), [&](const Pointer& at, const Json& value) {
        for (const Json& changed : Changed(value)) {
          ++checked;
          EXPECT_FALSE(Matches(desired, With(desired, at, changed)))
              << Where(c, desired, at) << ": " << value.dump() << " -> " << changed.dump();
        }
      });
    }
  }
  EXPECT_GT(checked, 5000);  // not vacuous: render produced the objects
}

TEST(MatchesProof, DeletingAnyFieldIsDriftEvenWhenItsValueIsZero) {
  int checked = 0, zero_values = 0;
  for (const Rendered& c : RenderCases()) {
    for (const Json& desired : c.objects) {
      ForEachNode(desired, Pointer(), [&](const Pointer& at, const Json& value) {
        ++checked;
        const bool zero = value == false || value == 0 || value == "" ||
                          (value.is_structured() && value.empty());
        if (zero) ++zero_values;
        EXPECT_FALSE(Matches(desired, Erased(desired, at)))
            << Where(c, desired, at) << ": " << value.dump() << " deleted";
      });
    }
  }
  EXPECT_GT(checked, 2000);
  // allowPrivilegeEscalation, automountServiceAccountToken, enableServiceLinks: false,
  // podSelector: {}, emptyDir: {}, replicas: 0 (paused): what the old "a zero value matches an
  // absent field" rule hid.
  EXPECT_GT(zero_values, 40);
}

TEST(MatchesProof, ALongerListIsDrift) {
  for (const Rendered& c : RenderCases()) {
    for (const Json& desired : c.objects) {
      ForEachNode(desired, Pointer(), [&](const Pointer& at, const Json& value) {
        if (!value.is_array()) return;
        Json observed = desired;
        observed[at].push_back(value.empty() ? Json("extra") : value.back());
        EXPECT_FALSE(Matches(desired, observed)) << Where(c, desired, at) << ": one more element";
      });
    }
  }
}

TEST(MatchesProof, FieldsOnlyTheObservedObjectHasAreIgnored) {
  int checked = 0;
  for (const Rendered& c : RenderCases()) {
    for (const Json& desired : c.objects) {
      EXPECT_TRUE(Matches(desired, With(desired, Pointer("/status"), {{"observedGeneration", 1}})));
      ForEachNode(desired, Pointer(), [&](const Pointer& at, const Json& value) {
        if (!value.is_object()) return;
        ++checked;
        EXPECT_TRUE(Matches(desired, With(desired, at / "addedByTheApiserver", "default")))
            << Where(c, desired, at);
      });
    }
  }
  EXPECT_GT(checked, 500);
}

// Spelled as an integer number of thousandths: "500m" -> "500e-3", "1Gi" -> "1073741824000e-3".
std::string SameQuantityOtherSpelling(long double value) {
  return std::to_string(std::llround(value * 1000.0L)) + "e-3";
}

TEST(MatchesProof, AQuantityMatchesAnEqualValueOnlyWhereTheApiserverCanonicalisesQuantities) {
  int at_quantity_paths = 0, elsewhere = 0;
  for (const Rendered& c : RenderCases()) {
    for (const Json& desired : c.objects) {
      ForEachNode(desired, Pointer(), [&](const Pointer& at, const Json& value) {
        if (!value.is_string() && !value.is_number()) return;
        const std::string text = value.is_string() ? value.get<std::string>() : value.dump();
        const std::optional<long double> quantity = ParseQuantity(text);
        if (!quantity) return;
        const long double parsed = *quantity;
        const std::string same = SameQuantityOtherSpelling(parsed);
        if (AtQuantityPath(at)) {
          ++at_quantity_paths;
          EXPECT_TRUE(Matches(desired, With(desired, at, same)))
              << Where(c, desired, at) << ": " << text << " == " << same;
          EXPECT_FALSE(Matches(desired, With(desired, at, SameQuantityOtherSpelling(parsed * 2))))
              << Where(c, desired, at) << ": " << text << " doubled";
          EXPECT_FALSE(Matches(desired, With(desired, at, SameQuantityOtherSpelling(parsed + 1))))
              << Where(c, desired, at) << ": " << text << " plus one";
        } else {
          ++elsewhere;
          EXPECT_FALSE(Matches(desired, With(desired, at, same)))
              << Where(c, desired, at) << ": " << text << " is not a quantity here";
          if (value.is_number()) {
            EXPECT_FALSE(Matches(desired, With(desired, at, text)))
                << Where(c, desired, at) << ": the number as text";
          }
        }
      });
    }
  }
  EXPECT_GT(at_quantity_paths, 10);  // cpu, memory, storage in every case
  EXPECT_GT(elsewhere, 50);          // ports, replicas, env values that look like quantities
}

}  // namespace
}  // namespace kubabase::project
