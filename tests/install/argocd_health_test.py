#!/usr/bin/env python3
"""Runs docs/argocd-health.lua, the Argo CD health check for Project, with Debian's lua5.4 on
every case of testdata/health-cases.yaml (the table tests/health holds kstatus and Flux to as
well), and checks that:
  - each case reports the expected Argo CD health status and message (expect.argocd);
  - the script is also valid Lua 5.1 as far as a lexical check can tell (Argo CD runs gopher-lua,
    a Lua 5.1: no goto/labels, //, bitwise operators, <const>/<close>, 5.2+ library functions);
  - docs/gitops.md embeds exactly this script (one copy to maintain).
Usage: argocd_health_test.py [LUA_INTERPRETER]   (default lua5.4)
"""
import json
import os
import re
import subprocess
import sys
import tempfile

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SCRIPT = os.path.join(ROOT, "docs", "argocd-health.lua")
CASES = os.path.join(ROOT, "tests", "install", "testdata", "health-cases.yaml")
DOC = os.path.join(ROOT, "docs", "gitops.md")
failures = []


def lua_literal(value):
    """A Lua table constructor for a JSON-like value, as Argo CD's obj would hold it."""
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # JSON string escapes are valid Lua escapes for this data
    if isinstance(value, list):
        return "{" + ", ".join(lua_literal(v) for v in value) + "}"
    return "{" + ", ".join(f"[{json.dumps(k)}] = {lua_literal(v)}" for k, v in value.items()) + "}"


def strip_strings_and_comments(source):
    source = re.sub(r"--\[(=*)\[.*?\]\1\]", "", source, flags=re.S)
    source = re.sub(r"--[^\n]*", "", source)
    source = re.sub(r"\[(=*)\[.*?\]\1\]", '""', source, flags=re.S)
    source = re.sub(r'"(\\.|[^"\\\n])*"', '""', source)
    source = re.sub(r"'(\\.|[^'\\\n])*'", "''", source)
    return source


def check_lua51(source):
    code = strip_strings_and_comments(source)
    forbidden = {
        r"\bgoto\b": "goto (5.2)",
        r"::\w+::": "labels (5.2)",
        r"//": "integer division (5.3)",
        r"[&|]|<<|>>|~(?!=)": "bitwise operators (5.3)",
        r"<\s*(const|close)\s*>": "attributes (5.4)",
        r"\b(table\.unpack|table\.move|table\.pack|math\.type|math\.tointeger|utf8\.|string\.pack|load\s*\()": "5.2+ library",
        r"\b_ENV\b": "_ENV (5.2)",
    }
    for pattern, what in forbidden.items():
        if re.search(pattern, code):
            failures.append(f"{SCRIPT}: uses {what}, which gopher-lua (Lua 5.1) does not have")


def run_case(lua, case):
    program = (f"obj = {lua_literal(case['obj'])}\n"
               f"local hs = dofile({json.dumps(SCRIPT)})\n"
               "io.write(tostring(hs.status), '\\n', tostring(hs.message))\n")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(program)
        path = f.name
    try:
        out = subprocess.run([lua, path], capture_output=True, text=True, timeout=10)
    finally:
        os.unlink(path)
    if out.returncode != 0:
        failures.append(f"{case['name']}: lua failed: {out.stderr.strip()}")
        return
    status, _, message = out.stdout.partition("\n")
    want = case["expect"]["argocd"]
    if status != want["status"]:
        failures.append(f"{case['name']}: health {status} ({message!r}), want {want['status']}")
    elif want.get("message") and want["message"] not in message:
        failures.append(f"{case['name']}: message {message!r} lacks {want['message']!r}")
    else:
        print(f"ok: {case['name']}: {status}")


def main():
    lua = sys.argv[1] if len(sys.argv) > 1 else "lua5.4"
    source = open(SCRIPT).read()
    check_lua51(source)
    cases = yaml.safe_load(open(CASES))
    for case in cases:
        run_case(lua, case)
    seen = {c["expect"]["argocd"]["status"] for c in cases}
    for status in ["Healthy", "Progressing", "Degraded", "Suspended"]:
        if status not in seen:
            failures.append(f"no case expects {status}")
    blocks = re.findall(r"```lua\n(.*?)```", open(DOC).read(), flags=re.S)
    if source not in blocks:
        failures.append("docs/gitops.md does not embed docs/argocd-health.lua verbatim in a ```lua block")
    # The argocd-cm snippet carries the script too, indented under its key.
    indented = "".join(("    " + line if line.strip() else line) for line in source.splitlines(True))
    if indented not in open(DOC).read():
        failures.append("docs/gitops.md's argocd-cm snippet does not carry docs/argocd-health.lua verbatim")
    for f in failures:
        print("FAIL:", f, file=sys.stderr)
    if not failures:
        print(f"ok: {len(cases)} cases; Lua 5.1 lexical check; docs/gitops.md embeds the script")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
