#!/usr/bin/env python3
"""Holds kstatus and Flux's healthCheckExprs to the table the Argo CD check is held to.

Runs kstatus-check (this directory's Go command: the real kstatus library, and cel-go evaluating
as Flux does) on every case of tests/install/testdata/health-cases.yaml, with the
healthCheckExprs read from the one Kustomization in docs/gitops.md that has them (so the page
cannot say other rules than the ones tested), and checks each case's expect.kstatus and
expect.flux.
Usage: health_test.py [KSTATUS_CHECK]   (default: the one build.sh beside this file builds)
"""
import json
import os
import re
import subprocess
import sys
import tempfile

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CASES = os.path.join(ROOT, "tests", "install", "testdata", "health-cases.yaml")
DOC = os.path.join(ROOT, "docs", "gitops.md")
KSTATUS = {"InProgress", "Current", "Failed", "Terminating"}
FLUX = {"InProgress", "Current", "Failed", "Unknown"}


def flux_kustomization():
    """The ```yaml block of docs/gitops.md that carries healthCheckExprs: exactly one."""
    blocks = [b for b in re.findall(r"```yaml\n(.*?)```", open(DOC).read(), flags=re.S)
              if "healthCheckExprs:" in b]
    if len(blocks) != 1:
        sys.exit(f"FAIL: docs/gitops.md has {len(blocks)} yaml blocks with healthCheckExprs, want 1")
    doc = yaml.safe_load(blocks[0])
    rules = [r for r in doc["spec"]["healthCheckExprs"]
             if r.get("apiVersion") == "kubabase.io/v1alpha1" and r.get("kind") == "Project"]
    if doc.get("kind") != "Kustomization" or len(rules) != 1:
        sys.exit("FAIL: docs/gitops.md's healthCheckExprs block is not a Kustomization with one "
                 "rule for kubabase.io/v1alpha1 Project")
    return blocks[0]


def main():
    if len(sys.argv) > 1:
        checker = sys.argv[1]
    else:
        built = subprocess.run([os.path.join(os.path.dirname(__file__), "build.sh")],
                               stdout=subprocess.PIPE, text=True)
        if built.returncode != 0:
            sys.exit("FAIL: tests/health/build.sh could not build kstatus-check")
        checker = built.stdout.strip()
    cases = yaml.safe_load(open(CASES))
    objects = []
    for case in cases:
        obj = dict(case["obj"])
        obj.setdefault("apiVersion", "kubabase.io/v1alpha1")
        obj.setdefault("kind", "Project")
        objects.append(obj)
    with tempfile.TemporaryDirectory() as tmp:
        kustomization = os.path.join(tmp, "kustomization.yaml")
        with open(kustomization, "w") as f:
            f.write(flux_kustomization())
        listing = os.path.join(tmp, "projects.json")
        with open(listing, "w") as f:
            json.dump({"apiVersion": "v1", "kind": "List", "items": objects}, f)
        out = subprocess.run([checker, "-kustomization", kustomization, listing],
                             capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        sys.exit(f"FAIL: kstatus-check exited {out.returncode}: {out.stderr.strip()}")
    results = [json.loads(line) for line in out.stdout.splitlines()]
    if len(results) != len(cases):
        sys.exit(f"FAIL: kstatus-check printed {len(results)} results for {len(cases)} cases")

    failures = []
    for case, got in zip(cases, results):
        want = case["expect"]
        for tool, allowed in (("kstatus", KSTATUS), ("flux", FLUX)):
            if want.get(tool) not in allowed:
                failures.append(f"{case['name']}: expect.{tool} must be one of {sorted(allowed)}")
        problems = []
        if got["kstatus"] != want.get("kstatus"):
            problems.append(f"kstatus {got['kstatus']} ({got.get('kstatusMessage', '')!r}), "
                            f"want {want.get('kstatus')}")
        if got.get("flux") != want.get("flux"):
            problems.append(f"flux {got.get('flux')} ({got.get('fluxError', '')!r}), "
                            f"want {want.get('flux')}")
        if problems:
            failures.append(f"{case['name']}: " + "; ".join(problems))
        else:
            print(f"ok: {case['name']}: kstatus {got['kstatus']}, flux {got['flux']}")
    for tool, wanted in (("kstatus", ["InProgress", "Current", "Failed", "Terminating"]),
                         ("flux", ["InProgress", "Current", "Failed"])):
        seen = {c["expect"].get(tool) for c in cases}
        failures += [f"no case expects {tool} {s}" for s in wanted if s not in seen]
    for f in failures:
        print("FAIL:", f, file=sys.stderr)
    if not failures:
        print(f"ok: {len(cases)} cases agree with kstatus and with docs/gitops.md's healthCheckExprs")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
