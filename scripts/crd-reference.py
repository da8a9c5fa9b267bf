#!/usr/bin/env python3
"""Writes docs/crd-reference.md from crds/project.yaml, so the README's field reference is the schema.

  scripts/crd-reference.py          rewrite docs/crd-reference.md
  scripts/crd-reference.py --check  exit 1 if docs/crd-reference.md differs from the schema
"""
import pathlib
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
CRD = ROOT / "crds" / "project.yaml"
DOC = ROOT / "docs" / "crd-reference.md"


def type_of(schema):
    if schema.get("x-kubernetes-int-or-string"):
        return "int or string"
    t = schema.get("type", "object" if "properties" in schema else "any")
    if t == "array":
        return f"[]{type_of(schema.get('items', {}))}"
    if t == "object" and "additionalProperties" in schema:
        return f"map[string]{type_of(schema['additionalProperties'])}"
    return t


def constraints(schema):
    parts = []
    if "enum" in schema:
        parts.append("one of " + ", ".join(f"`{v}`" for v in schema["enum"]))
    for key, label in (("minimum", "min"), ("maximum", "max"), ("minLength", "min length"),
                       ("maxLength", "max length"), ("maxItems", "max items")):
        if key in schema:
            parts.append(f"{label} {schema[key]}")
    if "pattern" in schema:
        parts.append(f"pattern `{schema['pattern']}`")
    for rule in schema.get("x-kubernetes-validations", []):
        parts.append("rule: " + rule.get("message", rule["rule"]))
    return "; ".join(parts)


def cell(text):
    return " ".join(str(text).split()).replace("|", "\\|")


def walk(schema, path, required, rows):
    for name, sub in schema.get("properties", {}).items():
        field = f"{path}.{name}" if path else name
        default = sub.get("default")
        rows.append((field, type_of(sub),
                     "" if default is None else f"`{yaml.safe_dump(default, default_flow_style=True).strip().removesuffix('...').strip()}`",
                     "yes" if name in required else "", constraints(sub), sub.get("description", "")))
        if sub.get("type") == "object" or "properties" in sub:
            walk(sub, field, set(sub.get("required", [])), rows)
        elif sub.get("type") == "array" and "properties" in sub.get("items", {}):
            walk(sub["items"], field + "[]", set(sub["items"].get("required", [])), rows)


def render():
    crd = yaml.safe_load(CRD.read_text())
    version = next(v for v in crd["spec"]["versions"] if v.get("storage"))
    root = version["schema"]["openAPIV3Schema"]
    out = [
        "# Project API reference",
        "",
        f"`{crd['spec']['group']}/{version['name']}`, kind `{crd['spec']['names']['kind']}`, "
        f"{crd['spec']['scope'].lower()}-scoped, short name "
        f"`{', '.join(crd['spec']['names'].get('shortNames', []))}`.",
        "Generated from `crds/project.yaml` by `scripts/crd-reference.py`; a test fails when they differ.",
        "",
    ]
    for rule in root.get("x-kubernetes-validations", []):
        out.append(f"- Validation: {cell(rule.get('message', rule['rule']))}")
    for section in ("spec", "status"):
        schema = root["properties"][section]
        out += ["", f"## {section}", "", cell(schema.get("description", "")), "",
                "| field | type | default | required | constraints | description |",
                "|---|---|---|---|---|---|"]
        rows = []
        walk(schema, section, set(schema.get("required", [])), rows)
        out += [f"| `{f}` | {cell(t)} | {cell(d)} | {r} | {cell(c)} | {cell(desc)} |"
                for f, t, d, r, c, desc in rows]
    return "\n".join(out) + "\n"


def main():
    text = render()
    if "--check" in sys.argv[1:]:
        if not DOC.exists() or DOC.read_text() != text:
            print(f"{DOC.relative_to(ROOT)} is out of date: run scripts/crd-reference.py", file=sys.stderr)
            return 1
        print(f"{DOC.relative_to(ROOT)} matches {CRD.relative_to(ROOT)}")
        return 0
    DOC.write_text(text)
    print(f"wrote {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
