// kstatus-check prints, for each Kubernetes object it reads, what the GitOps tools that wait on
// health would say about it:
//
//   - kstatus: status.Compute of sigs.k8s.io/cli-utils/pkg/kstatus/status, the library behind
//     `kpt live status`, `flux` and kustomize-controller's `wait: true` (Flux builds the same
//     package from its fork github.com/fluxcd/cli-utils; generic.go is identical there).
//   - flux: the Kustomization's spec.healthCheckExprs for the object's group/kind, evaluated with
//     cel-go as Flux's github.com/fluxcd/pkg/runtime/cel does it (see evaluateFlux).
//
// Usage:
//
//	kstatus-check [-kustomization FILE] [FILE|-]
//	kubectl get projects -o json | kstatus-check -kustomization k.yaml -
//
// Input: YAML or JSON; one object, several YAML documents, or a List (items). Output: one JSON
// object per input object, one a line:
//
//	{"name":"demo","kstatus":"InProgress","kstatusMessage":"...","flux":"Current"}
//
// "flux" is empty when no -kustomization is given or it has no rule for the object's kind; it is
// "Unknown" with "fluxError" set when an expression fails to evaluate (Flux then reports the
// object's status as Unknown and keeps waiting). Exit status 2 on unreadable input or an
// expression Flux would reject.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

type result struct {
	Name           string `json:"name"`
	Kstatus        string `json:"kstatus"`
	KstatusMessage string `json:"kstatusMessage,omitempty"`
	Flux           string `json:"flux,omitempty"`
	FluxError      string `json:"fluxError,omitempty"`
}

func main() {
	kustomization := flag.String("kustomization", "",
		"a Flux Kustomization (YAML) whose spec.healthCheckExprs to evaluate")
	flag.Parse()
	if flag.NArg() > 1 {
		die("at most one input file")
	}
	var rules []fluxRule
	if *kustomization != "" {
		var err error
		if rules, err = loadFluxRules(*kustomization); err != nil {
			die("%s: %v", *kustomization, err)
		}
	}
	in := io.Reader(os.Stdin)
	if name := flag.Arg(0); name != "" && name != "-" {
		f, err := os.Open(name)
		if err != nil {
			die("%v", err)
		}
		defer f.Close()
		in = f
	}
	objects, err := readObjects(in)
	if err != nil {
		die("reading objects: %v", err)
	}
	out := json.NewEncoder(os.Stdout)
	for _, object := range objects {
		u := &unstructured.Unstructured{Object: object}
		r := result{Name: u.GetName()}
		computed, err := status.Compute(u)
		if err != nil {
			r.Kstatus, r.KstatusMessage = "Error", err.Error()
		} else {
			r.Kstatus, r.KstatusMessage = string(computed.Status), computed.Message
		}
		if rule := findFluxRule(rules, u); rule != nil {
			r.Flux, r.FluxError = rule.evaluate(object)
		}
		if err := out.Encode(r); err != nil {
			die("%v", err)
		}
	}
}

// readObjects decodes a YAML or JSON stream. Numbers go through apimachinery's JSON decoder,
// which keeps integers as int64 as the apiserver's clients (and so kstatus and Flux) see them.
func readObjects(in io.Reader) ([]map[string]any, error) {
	decoder := utilyaml.NewYAMLOrJSONDecoder(bufio.NewReader(in), 4096)
	var objects []map[string]any
	for {
		var raw json.RawMessage
		if err := decoder.Decode(&raw); err == io.EOF {
			return objects, nil
		} else if err != nil {
			return nil, err
		}
		if len(raw) == 0 || string(raw) == "null" {
			continue // an empty YAML document
		}
		var object map[string]any
		if err := utiljson.Unmarshal(raw, &object); err != nil {
			return nil, err
		}
		items, isList := object["items"].([]any)
		if !isList {
			objects = append(objects, object)
			continue
		}
		for _, item := range items {
			if m, ok := item.(map[string]any); ok {
				objects = append(objects, m)
			}
		}
	}
}

func die(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "kstatus-check: "+format+"\n", args...)
	os.Exit(2)
}
