#!/usr/bin/env python3
"""Write a schemathesis.toml for the qii fuzzing harness from the live schema.

Usage: make_config.py GRAPHQL_URL OUTPUT_TOML [AUTH_HEADER_VALUE]

Binds every argument of type `ID` (and every `ID` field of an input object, at any depth,
lists included) to a dictionary of ids that exist in the demo data plus malformed ones, and a
few named `String` arguments (unit codes, rule set names, rule versions, rule paths and
sources) to values the server knows. Schemathesis still draws its own values the rest of the
time (each binding has a probability), so both the deep paths and the input checks are fuzzed.
"""

from __future__ import annotations

import json
import sys
import urllib.request

INTROSPECTION = """
query {
  __schema {
    types {
      kind name
      fields(includeDeprecated: true) { name args { name type { ...T } } }
      inputFields { name type { ...T } }
    }
  }
}
fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } }
"""

IDS = [
    "1", "2", "3", "5", "8", "17", "18", "40", "47", "83", "94", "100", "172", "293", "713",
    "1000", "1674", "3000", "8001",
    "0", "-1", "2147483647", "2147483648", "9223372036854775807", "9223372036854775808",
    "99999999999999999999", "1.5", "1e3", " 1", "01", "0x10", "", "abc", "1;DROP TABLE users",
]
CODES = [
    "town-shijie", "town-humen", "town-wanjiang", "yh-wanjiang-1", "town-dongkeng", "city",
    "district-1", "", "TOWN-SHIJIE", "town-", "%", "_", "town-shijie' OR '1'='1",
]
RULE_SETS = ["qii", "experts", "targets", "incentives", "supervision", "eligibility", "", "../qii", "QII"]
VERSIONS = ["2.0", "1.0", "v2", "qii/v2", "2", "0.0", "", "999.999", "2.0.0", "-1"]
PATHS = [
    "qii/v2.rhai", "qii/v3.rhai", "experts/2017.rhai", "targets/2017q4.rhai",
    "incentives/2017.rhai", "supervision/2017.rhai", "eligibility/activity.rhai",
    "../etc/passwd", "/etc/passwd", "qii/../../x.rhai", "qii/v2.rhai\u0000", "qii/", "",
    "qii/v2.tests.json", "new/x.rhai", "qii/v2.RHAI",
]
SOURCES = [
    "", "1", "let x = ;", "loop {}", "while true {}", "fn f(x) { f(x) } f(1)",
    "let a = []; loop { a.push(a); }", "1 / 0", "let x = 9223372036854775807 + 1; x",
    "[1, 2, 3][99]", "throw \"boom\";", "\"x\".pad(100000000, \"y\")",
    "let s = \"a\"; for i in 0..64 { s += s; } s",
    "fn score(unit) { 1.0 }", "// qii rule set\nfn score(u) { u.missing_field * 2 }",
]
TEXT = [
    "", " ", "a", "%", "_", "\\", "'", "\"", "' OR '1'='1", "%00", "\u0000", "\u202e",
    "张**", "138****5678", "13800000000", "a" * 300, "fuzzadmin-other",
]


def _unwrap(type_ref: dict) -> tuple[str | None, str | None, bool]:
    """(kind, name, is_list) of the named type under NON_NULL/LIST wrappers."""
    is_list = False
    while type_ref and type_ref.get("kind") in ("NON_NULL", "LIST"):
        if type_ref["kind"] == "LIST":
            is_list = True
        type_ref = type_ref.get("ofType")
    if not type_ref:
        return None, None, is_list
    return type_ref.get("kind"), type_ref.get("name"), is_list


def _input_paths(types: dict, input_name: str, prefix: str, depth: int, out: dict[str, str]) -> None:
    if depth > 4:
        return
    for field in types[input_name].get("inputFields") or []:
        kind, name, is_list = _unwrap(field["type"])
        segment = field["name"] + ("[*]" if is_list else "")
        path = f"{prefix}.{segment}"
        if kind == "SCALAR" and name == "ID":
            out[path] = "qii_ids"
        elif kind == "INPUT_OBJECT" and name in types:
            _input_paths(types, name, path, depth + 1, out)


def collect_bindings(schema: dict) -> dict[str, str]:
    types = {t["name"]: t for t in schema["types"] if t.get("name")}
    named_strings = {
        "code": "qii_codes",
        "ruleSet": "qii_rule_sets",
        "a": "qii_versions",
        "b": "qii_versions",
        "version": "qii_versions",
        "path": "qii_paths",
        "source": "qii_sources",
    }
    bindings: dict[str, str] = {}
    for type_def in schema["types"]:
        if type_def.get("kind") != "OBJECT" or str(type_def.get("name", "")).startswith("__"):
            continue
        for field in type_def.get("fields") or []:
            for arg in field.get("args") or []:
                kind, name, is_list = _unwrap(arg["type"])
                segment = arg["name"] + ("[*]" if is_list else "")
                key = f"*.*.{segment}"
                if kind == "SCALAR" and name == "ID":
                    bindings[key] = "qii_ids"
                elif kind == "SCALAR" and name == "String" and arg["name"] in named_strings:
                    bindings[key] = named_strings[arg["name"]]
                elif kind == "INPUT_OBJECT" and name in types:
                    _input_paths(types, name, key, 0, bindings)
    return bindings


def _toml_string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def render(bindings: dict[str, str]) -> str:
    lines = [
        "# Generated by benches/fuzz/make_config.py from the live schema; do not edit.",
        "",
    ]
    dictionaries = {
        "qii_ids": IDS,
        "qii_codes": CODES,
        "qii_rule_sets": RULE_SETS,
        "qii_versions": VERSIONS,
        "qii_paths": PATHS,
        "qii_sources": SOURCES,
        "qii_text": TEXT,
    }
    # Top-level tables first (TOML: keys after a table header belong to it).
    lines.append("[generation.dictionaries]")
    lines.append('string = { dictionary = "qii_text", probability = 0.15 }')
    lines.append("")
    lines.append("[parameters]")
    for key in sorted(bindings):
        probability = 0.6 if bindings[key] == "qii_ids" else 0.5
        lines.append(f'{_toml_string(key)} = {{ dictionary = "{bindings[key]}", probability = {probability} }}')
    lines.append("")
    for name, values in dictionaries.items():
        lines.append(f"[dictionaries.{name}]")
        lines.append("values = [" + ", ".join(_toml_string(v) for v in values) + "]")
        lines.append("")
    return "\n".join(lines)


def main() -> int:
    url, output = sys.argv[1], sys.argv[2]
    headers = {"content-type": "application/json"}
    if len(sys.argv) > 3 and sys.argv[3]:
        headers["authorization"] = sys.argv[3]
    request = urllib.request.Request(
        url, data=json.dumps({"query": INTROSPECTION}).encode(), headers=headers, method="POST"
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        payload = json.load(response)
    if "data" not in payload or not payload["data"]:
        print(f"introspection failed: {payload}", file=sys.stderr)
        return 1
    bindings = collect_bindings(payload["data"]["__schema"])
    with open(output, "w", encoding="utf-8") as out:
        out.write(render(bindings))
    print(f"{output}: {len(bindings)} argument bindings")
    return 0


if __name__ == "__main__":
    sys.exit(main())
