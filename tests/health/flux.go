package main

// Flux's healthCheckExprs, evaluated as kustomize-controller evaluates them. Every rule below is
// stated in github.com/fluxcd/pkg (read at runtime/v0.111.0 and its main branch of 2026-07):
//   runtime/cel/expression.go        NewExpression: the CEL environment and program options;
//                                    EvaluateBoolean: a non-bool result is an error
//   runtime/cel/status_evaluator.go  NewStatusEvaluator: current required, the others optional,
//                                    parsed, not type-checked (no declared variables, since not
//                                    every CRD has the five usual top-level fields);
//                                    Evaluate: the observedGeneration check, then inProgress,
//                                    failed, current in that order (RFC 0009), else InProgress
//   runtime/cel/status_reader.go     rules keyed by GroupKind; a rule without kind covers a group
// and in github.com/kubernetes-sigs/cli-utils pkg/kstatus/polling/statusreaders/common.go
// (errResourceToResourceStatus): an evaluation error makes the object's status Unknown.
// kustomize-controller (internal/controller/kustomization_controller.go, getClientAndPoller) puts
// this reader before the default kstatus readers, and the poller asks the first reader that
// Supports the kind (fluxcd/cli-utils pkg/kstatus/polling/polling.go, engine/engine.go), so for a
// covered kind kstatus is not consulted at all.

import (
	"bytes"
	"fmt"
	"os"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/ext"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// fluxRule is one entry of a Kustomization's spec.healthCheckExprs, parsed.
type fluxRule struct {
	groupKind  schema.GroupKind // Kind "" covers the whole group
	inProgress cel.Program      // nil when not given
	failed     cel.Program      // nil when not given
	current    cel.Program
}

// healthCheckExpr mirrors kustomize.CustomHealthCheck's JSON (fluxcd/pkg apis/kustomize).
type healthCheckExpr struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Current    string `json:"current"`
	InProgress string `json:"inProgress"`
	Failed     string `json:"failed"`
}

// loadFluxRules reads the healthCheckExprs of the Kustomization(s) in a YAML file, rejecting
// what Flux rejects (a missing current, an expression that does not parse, a duplicate kind).
func loadFluxRules(path string) ([]fluxRule, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	decoder := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var rules []fluxRule
	seen := map[schema.GroupKind]bool{}
	for {
		var doc struct {
			Kind string `json:"kind"`
			Spec struct {
				HealthCheckExprs []healthCheckExpr `json:"healthCheckExprs"`
			} `json:"spec"`
		}
		if err := decoder.Decode(&doc); err != nil {
			break // io.EOF, or a document that is not a Kustomization: none left to read
		}
		for i, hc := range doc.Spec.HealthCheckExprs {
			rule, err := newFluxRule(hc)
			if err != nil {
				return nil, fmt.Errorf("healthCheckExprs[%d]: %w", i, err)
			}
			if seen[rule.groupKind] {
				return nil, fmt.Errorf("healthCheckExprs[%d]: duplicate rule for %s", i, rule.groupKind)
			}
			seen[rule.groupKind] = true
			rules = append(rules, rule)
		}
	}
	if len(rules) == 0 {
		return nil, fmt.Errorf("no spec.healthCheckExprs found")
	}
	return rules, nil
}

func newFluxRule(hc healthCheckExpr) (fluxRule, error) {
	rule := fluxRule{groupKind: schema.FromAPIVersionAndKind(hc.APIVersion, hc.Kind).GroupKind()}
	if hc.Current == "" {
		return rule, fmt.Errorf("expression current not specified")
	}
	var err error
	if rule.current, err = newProgram(hc.Current); err != nil {
		return rule, err
	}
	if hc.InProgress != "" {
		if rule.inProgress, err = newProgram(hc.InProgress); err != nil {
			return rule, err
		}
	}
	if hc.Failed != "" {
		if rule.failed, err = newProgram(hc.Failed); err != nil {
			return rule, err
		}
	}
	return rule, nil
}

// newProgram builds a program in the environment Flux uses: these environment options, parsed
// without declarations (so an absent top-level field fails at evaluation, not at parse), the
// optimizer on, an interrupt check every 100 iterations.
func newProgram(expression string) (cel.Program, error) {
	env, err := cel.NewEnv(
		cel.HomogeneousAggregateLiterals(),
		cel.EagerlyValidateDeclarations(true),
		cel.DefaultUTCTimeZone(true),
		cel.CrossTypeNumericComparisons(true),
		cel.OptionalTypes(),
		ext.Strings(),
		ext.Sets(),
		ext.Encoders(),
	)
	if err != nil {
		return nil, err
	}
	ast, issues := env.Parse(expression)
	if issues != nil && issues.Err() != nil {
		return nil, fmt.Errorf("parsing %q: %s", expression, issues.String())
	}
	return env.Program(ast, cel.EvalOptions(cel.OptOptimize), cel.InterruptCheckFrequency(100))
}

func findFluxRule(rules []fluxRule, u *unstructured.Unstructured) *fluxRule {
	gk := u.GroupVersionKind().GroupKind()
	for i := range rules {
		if rules[i].groupKind == gk {
			return &rules[i]
		}
	}
	for i := range rules {
		if rules[i].groupKind == (schema.GroupKind{Group: gk.Group}) {
			return &rules[i]
		}
	}
	return nil
}

// evaluate returns the kstatus status Flux assigns the object, and the evaluation error if any.
func (r *fluxRule) evaluate(object map[string]any) (string, string) {
	// Built in before any expression: an int64 observedGeneration different from generation is
	// InProgress. A missing (or non-integer) observedGeneration skips the check.
	observed, found, err := unstructured.NestedInt64(object, "status", "observedGeneration")
	if err == nil && found {
		generation, found, err := unstructured.NestedInt64(object, "metadata", "generation")
		if err == nil && found && observed != generation {
			return "InProgress", ""
		}
	}
	for _, step := range []struct {
		program cel.Program
		status  string
	}{{r.inProgress, "InProgress"}, {r.failed, "Failed"}, {r.current, "Current"}} {
		if step.program == nil {
			continue
		}
		value, _, err := step.program.Eval(object)
		if err != nil {
			return "Unknown", err.Error()
		}
		b, ok := value.(types.Bool)
		if !ok {
			return "Unknown", fmt.Sprintf("expression is not a boolean: %v", value)
		}
		if b {
			return step.status, ""
		}
	}
	return "InProgress", ""
}
