#!/usr/bin/env python3
"""Checks that samples/project-full.yaml sets every field of the Project spec in crds/project.yaml.

A field is a path of schema properties under spec (lists step into their items). Where the
schema leaves structure open (additionalProperties maps, x-kubernetes-preserve-unknown-fields)
the path ends there. Exit 1 listing every field the full sample leaves out, so a field added to
the CRD without a sample fails here.
Usage: samples_cover_schema.py CRD SAMPLE
"""
import sys
import yaml

# Fields the full sample deliberately leaves out, with the reason.
EXEMPT = {
    # core/v1 ResourceRequirements.claims names the pod's DRA resourceClaims, which the operator
    # does not create; setting it would make every pod unschedulable.
    "claims",
}


def schema_paths(schema, prefix=""):
    if schema.get("x-kubernetes-preserve-unknown-fields") or "additionalProperties" in schema:
        yield prefix
        return
    if schema.get("type") == "array" and "items" in schema:
        yield from schema_paths(schema["items"], prefix + "[]")
        return
    props = schema.get("properties")
    if not props:
        yield prefix
        return
    for name, sub in props.items():
        if name in EXEMPT:
            continue
        yield from schema_paths(sub, f"{prefix}.{name}" if prefix else name)


def value_paths(value, prefix=""):
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from value_paths(v, f"{prefix}.{k}" if prefix else k)
    elif isinstance(value, list):
        for v in value:
            yield from value_paths(v, prefix + "[]")


def main():
    crd = yaml.safe_load(open(sys.argv[1]))
    sample = yaml.safe_load(open(sys.argv[2]))
    version, = [v for v in crd["spec"]["versions"] if v.get("storage")]
    spec_schema = version["schema"]["openAPIV3Schema"]["properties"]["spec"]
    wanted = sorted(set(schema_paths(spec_schema)))
    present = set(value_paths((sample or {}).get("spec") or {}))
    missing = [p for p in wanted if p not in present]
    if missing:
        print(f"FAIL: {sys.argv[2]} leaves out {len(missing)} spec field(s):", file=sys.stderr)
        for p in missing:
            print(f"  spec.{p}", file=sys.stderr)
        return 1
    print(f"ok: {sys.argv[2]} sets all {len(wanted)} spec fields of the CRD")
    return 0


if __name__ == "__main__":
    sys.exit(main())
