#!/usr/bin/env python3
"""Summarise a qii fuzzing run and replay each finding's smallest reproducer.

Usage: analyze.py WORK_DIR OUTPUT_MD

WORK_DIR is what run.sh prepared:
  meta.json                 command line, schemathesis version, settings, caller results
  tokens.json               {caller: "Bearer ..." or ""}, for the replay
  server.log                the server's log (QII_LOG=warn)
  callers/<name>/log.jsonl  one line per response, written by hooks.py

A finding is a response with a 5xx status, a body that is not a JSON object, or a GraphQL
error whose `extensions.code` is `INTERNAL` or missing; findings are grouped by operation,
kind, code and message, and the group's shortest request is sent again (while the server
runs) to confirm it and to capture the log lines it causes. A server that died during a
caller's run is a finding of its own.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
import time
import urllib.error
import urllib.request
from collections import Counter, defaultdict
from pathlib import Path

LOG_TIME = re.compile(r"^\s*(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z)")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def load_jsonl(path: Path) -> list[dict]:
    records = []
    if not path.exists():
        return records
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            line = line.strip()
            if line:
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError:
                    pass
    return records


def normalise(message: str) -> str:
    message = re.sub(r"\d+", "N", message or "")
    message = re.sub(r"`[^`]*`", "`…`", message)
    message = re.sub(r'"[^"]*"', '"…"', message)
    return message[:160]


def normalise_log(message: str) -> str:
    return re.sub(r"\d+", "N", message or "")[:200]


def query_text(request_body: str) -> tuple[str, object]:
    """The GraphQL document and variables of a recorded request body."""
    try:
        body = json.loads(request_body)
    except (json.JSONDecodeError, TypeError):
        return request_body, None
    if isinstance(body, dict):
        return str(body.get("query", "")), body.get("variables")
    return request_body, None


def parse_log(path: Path) -> list[tuple[float | None, str]]:
    lines: list[tuple[float | None, str]] = []
    if not path.exists():
        return lines
    for raw in path.read_text(encoding="utf-8", errors="replace").splitlines():
        line = ANSI.sub("", raw)
        match = LOG_TIME.match(line)
        stamp = None
        if match:
            text = match.group(1).replace("Z", "+00:00")
            try:
                stamp = dt.datetime.fromisoformat(text).timestamp()
            except ValueError:
                stamp = None
        lines.append((stamp, line))
    return lines


def log_lines_near(log: list[tuple[float | None, str]], start: float, end: float) -> list[str]:
    picked = []
    for stamp, line in log:
        if stamp is not None and start <= stamp <= end:
            picked.append(line)
    return picked


def post(url: str, body: str, authorization: str, timeout: float = 30.0) -> tuple[int | None, str]:
    headers = {"content-type": "application/json"}
    if authorization:
        headers["authorization"] = authorization
    request = urllib.request.Request(url, data=body.encode("utf-8"), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")
    except Exception as exc:  # noqa: BLE001 - a refused connection is itself the answer
        return None, f"{type(exc).__name__}: {exc}"


def fault_kinds(status: int | None, text: str) -> list[tuple[str, str | None, str]]:
    """(kind, code, message) of every fault in a replayed answer (mirrors hooks.py)."""
    faults: list[tuple[str, str | None, str]] = []
    if status is None:
        return [("NO_ANSWER", None, text)]
    if status >= 500:
        faults.append(("HTTP_5XX", None, f"HTTP {status}"))
    try:
        payload = json.loads(text)
    except json.JSONDecodeError:
        return faults + [("NOT_JSON", None, text[:200])]
    if not isinstance(payload, dict):
        return faults + [("NOT_AN_OBJECT", None, text[:200])]
    for error in payload.get("errors") or []:
        if not isinstance(error, dict):
            faults.append(("MALFORMED_ERRORS", None, repr(error)[:200]))
            continue
        ext = error.get("extensions")
        code = ext.get("code") if isinstance(ext, dict) else None
        if code is None:
            faults.append(("NO_CODE", None, str(error.get("message"))))
        elif code == "INTERNAL":
            faults.append(("INTERNAL", code, str(error.get("message"))))
    return faults


# Log messages that go with an INTERNAL response, which is a finding already.
ACCOMPANIES_INTERNAL = ("error without a code", "request failed")
NOT_EXECUTED = {"GRAPHQL_VALIDATION_FAILED", "GRAPHQL_PARSE_FAILED", "QUERY_TOO_COMPLEX", "QUERY_TOO_DEEP",
                "TOO_MANY_ROOT_FIELDS", "BATCH_TOO_LARGE", "BAD_REQUEST"}
ERROR_LINE = re.compile(r"\b(ERROR)\b\s+(.*)$")


def _shared_words(message: str, record: dict) -> int:
    """How many words (4 letters or more) of a log message the record's error messages repeat."""
    words = {w.lower() for w in re.findall(r"[A-Za-z]{4,}", message)}
    said = {w.lower() for e in record.get("errors") or [] for w in re.findall(r"[A-Za-z]{4,}", e.get("message") or "")}
    return len(words & said)


def logged_errors_without_finding(server_log, records, url, tokens, server_alive, server_log_path) -> list[dict]:
    groups: dict[str, dict] = {}
    for stamp, line in server_log:
        match = ERROR_LINE.search(line)
        if not match or stamp is None:
            continue
        message = match.group(2)
        if any(message.startswith(prefix) for prefix in ACCOMPANIES_INTERNAL):
            continue
        key = normalise_log(message)
        group = groups.setdefault(key, {"message": message, "count": 0, "stamps": []})
        group["count"] += 1
        group["stamps"].append(stamp)
    results = []
    for key, group in groups.items():
        candidates: dict[str, dict] = {}
        stamps_by_operation: dict[str, set] = defaultdict(set)
        for stamp in group["stamps"]:
            for record in records:
                errors = record.get("errors") or []
                # A request refused before execution ran no resolver, so it logged nothing.
                if errors and all(e.get("code") in NOT_EXECUTED for e in errors):
                    continue
                start = record["t"] - (record.get("elapsed") or 0) - 0.05
                if start <= stamp <= record["t"] + 0.05:
                    candidates.setdefault(record["request"] + "\0" + record["caller"], record)
                    stamps_by_operation[record["operation"]].add(stamp)
        ordered = sorted(
            candidates.values(),
            key=lambda r: (
                -len(stamps_by_operation[r["operation"]]),
                -_shared_words(group["message"], r),
                bool(r.get("faults")),
                len(r["request"]),
            ),
        )
        confirmed = None
        tried = 0
        if server_alive:
            for record in ordered[:12]:
                tried += 1
                before = server_log_path.stat().st_size
                status, text = post(url, record["request"], tokens.get(record["caller"], ""))
                time.sleep(0.5)
                with server_log_path.open("rb") as log_file:
                    log_file.seek(before)
                    new_lines = ANSI.sub("", log_file.read().decode("utf-8", "replace")).splitlines()
                hits = [l for l in new_lines if key[:60] in normalise_log(l)]
                if hits:
                    confirmed = {"record": record, "status": status, "body": text[:2000], "log": new_lines[:20]}
                    break
        results.append(
            {
                "message": group["message"],
                "count": group["count"],
                "first_seen": dt.datetime.fromtimestamp(min(group["stamps"]), dt.timezone.utc).isoformat(),
                "candidates": len(ordered),
                "tried": tried,
                "confirmed": confirmed,
                "candidate_examples": ordered[:3],
            }
        )
    return results



def fence(text: str, lang: str = "") -> str:
    text = text.replace("```", "`\u200b``")
    return f"```{lang}\n{text}\n```"


def main() -> int:
    work = Path(sys.argv[1])
    output = Path(sys.argv[2])
    meta = json.loads((work / "meta.json").read_text(encoding="utf-8"))
    tokens = {}
    if (work / "tokens.json").exists():
        tokens = json.loads((work / "tokens.json").read_text(encoding="utf-8"))
    url = meta["url"]
    server_log_path = work / "server.log"
    server_log = parse_log(server_log_path)

    records: list[dict] = []
    for caller in meta["callers"]:
        for name in caller.get("passes", [caller["name"]]):
            records.extend(load_jsonl(work / "callers" / name / "log.jsonl"))

    per_caller: dict[str, dict] = defaultdict(
        lambda: {"requests": 0, "operations": set(), "statuses": Counter(), "codes": Counter(), "data": 0}
    )
    operations_all: set[str] = set()
    groups: dict[tuple, dict] = {}
    for record in records:
        caller = record["caller"]
        stats = per_caller[caller]
        stats["requests"] += 1
        stats["operations"].add(record["operation"])
        operations_all.add(record["operation"])
        stats["statuses"][record["status"]] += 1
        if record.get("has_data"):
            stats["data"] += 1
        for error in record.get("errors") or []:
            stats["codes"][error.get("code") or "(none)"] += 1
        for fault in record.get("faults") or []:
            path = fault.get("path")
            path_head = str(path[0]) if isinstance(path, list) and path else ""
            key = (
                record["operation"],
                fault["kind"],
                fault.get("code") or "",
                normalise(fault.get("message") or ""),
                path_head if fault["kind"] in ("INTERNAL", "NO_CODE") else "",
            )
            group = groups.setdefault(
                key,
                {
                    "operation": record["operation"],
                    "kind": fault["kind"],
                    "code": fault.get("code"),
                    "message": fault.get("message"),
                    "count": 0,
                    "callers": Counter(),
                    "statuses": Counter(),
                    "smallest": None,
                },
            )
            group["count"] += 1
            group["callers"][caller] += 1
            group["statuses"][record["status"]] += 1
            smallest = group["smallest"]
            if smallest is None or len(record["request"]) < len(smallest["request"]):
                group["smallest"] = record

    server_alive = bool(meta.get("server_alive_at_end"))
    # Replay each group's smallest request, capturing the log lines it causes.
    for group in groups.values():
        record = group["smallest"]
        group["fuzz_log_lines"] = log_lines_near(
            server_log, record["t"] - (record.get("elapsed") or 0) - 0.05, record["t"] + 0.05
        )
        group["replay"] = None
        if not server_alive:
            continue
        before = server_log_path.stat().st_size if server_log_path.exists() else 0
        started = time.time()
        status, text = post(url, record["request"], tokens.get(record["caller"], ""))
        time.sleep(0.5)
        after_text = ""
        if server_log_path.exists():
            with server_log_path.open("rb") as log_file:
                log_file.seek(before)
                after_text = ANSI.sub("", log_file.read().decode("utf-8", "replace"))
        group["replay"] = {
            "status": status,
            "body": text[:3000],
            "faults": fault_kinds(status, text),
            "seconds": round(time.time() - started, 3),
            "log": [line for line in after_text.splitlines() if line.strip()][:40],
        }

    # Errors the server logged while answering with an expected code (or with data): no
    # response shows them, so find the request by time and confirm it by replaying.
    logged_only = logged_errors_without_finding(server_log, records, url, tokens, server_alive, server_log_path)

    # Server faults seen in the log, whatever request caused them.
    log_levels = Counter()
    log_messages: dict[str, dict] = {}
    for _, line in server_log:
        match = re.search(r"\b(ERROR|WARN)\b\s+(.*)$", line)
        if not match:
            if "panicked" in line:
                log_levels["PANIC"] += 1
                entry = log_messages.setdefault("PANIC " + normalise_log(line), {"count": 0, "example": line})
                entry["count"] += 1
            continue
        level, rest = match.groups()
        log_levels[level] += 1
        entry = log_messages.setdefault(f"{level} {normalise_log(rest)}", {"count": 0, "example": line})
        entry["count"] += 1

    # Dead server or a caller whose run ended early.
    crash_findings = [caller for caller in meta["callers"] if not caller.get("server_alive_after", True)]

    # ---- the report -------------------------------------------------------------------
    out: list[str] = []
    out.append("# qii fuzzing run")
    out.append("")
    out.append(f"- started: {meta.get('started')} — finished: {meta.get('finished')}")
    out.append(f"- command: `{meta['command']}`")
    out.append(f"- schemathesis: {meta.get('schemathesis_version')}")
    out.append(f"- server: `{meta.get('server_command')}`")
    out.append(f"- database: {meta.get('database_kind')}")
    out.append(
        f"- settings: MAX_EXAMPLES={meta.get('max_examples')}, TIME_BUDGET={meta.get('time_budget')} s "
        f"(per caller pass: {meta.get('per_caller_seconds')} s), WORKERS={meta.get('workers')}, "
        f"MODE={meta.get('mode')}, SEED={meta.get('seed') or 'random'}"
    )
    out.append(f"- work dir (cassettes, per-response logs, server log): `{work}`")
    out.append("")
    out.append("## Totals")
    out.append("")
    total_requests = sum(stats["requests"] for stats in per_caller.values())
    out.append(
        f"- operations tested: {len(operations_all)} of {meta.get('operations_total', '?')} "
        f"in the schema"
    )
    out.append(f"- requests sent (responses checked): {total_requests}")
    out.append(f"- finding groups: {len(groups) + len(crash_findings)}")
    out.append(f"- errors logged behind expected answers: {len(logged_only)} distinct messages")
    out.append(f"- server alive at the end: {'yes' if server_alive else 'NO'}")
    out.append("")
    out.append("| caller | pass | exit | requests | operations | with data | server alive after |")
    out.append("|---|---|---|---|---|---|---|")
    for caller in meta["callers"]:
        for name in caller.get("passes", [caller["name"]]):
            pass_meta = caller.get("pass_results", {}).get(name, {})
            requests = sum(1 for _ in load_jsonl(work / "callers" / name / "log.jsonl"))
            ops = {r["operation"] for r in load_jsonl(work / "callers" / name / "log.jsonl")}
            with_data = sum(1 for r in load_jsonl(work / "callers" / name / "log.jsonl") if r.get("has_data"))
            out.append(
                f"| {caller['name']} | {name} | {pass_meta.get('exit', '?')} | {requests} | {len(ops)} | "
                f"{with_data} | {'yes' if pass_meta.get('server_alive_after', True) else 'NO'} |"
            )
    out.append("")
    out.append("Error codes seen (all responses):")
    out.append("")
    out.append("| caller | codes |")
    out.append("|---|---|")
    for name, stats in sorted(per_caller.items()):
        codes = ", ".join(f"{code} {count}" for code, count in stats["codes"].most_common())
        statuses = ", ".join(f"HTTP {code} ×{count}" for code, count in sorted(stats["statuses"].items()))
        out.append(f"| {name} | {codes or '—'}; {statuses} |")
    out.append("")
    if meta.get("notes"):
        out.append("Notes:")
        out.append("")
        for note in meta["notes"]:
            out.append(f"- {note}")
        out.append("")

    out.append("## Findings")
    out.append("")
    if not groups and not crash_findings:
        out.append("None: no 5xx, no non-JSON answer, no `INTERNAL` or code-less error, no crash.")
        out.append("")
    for caller in crash_findings:
        out.append(f"### Server died during the `{caller['name']}` run")
        out.append("")
        out.append(fence("\n".join(caller.get("log_tail", [])) or "(empty log)"))
        out.append("")
    ordered = sorted(groups.values(), key=lambda g: (g["operation"], g["kind"], -g["count"]))
    for index, group in enumerate(ordered, 1):
        record = group["smallest"]
        query, variables = query_text(record["request"])
        callers = ", ".join(f"{name} ×{count}" for name, count in group["callers"].most_common())
        statuses = ", ".join(f"{code} ×{count}" for code, count in sorted(group["statuses"].items()))
        out.append(f"### {index}. `{group['operation']}` — {group['kind']}" + (f" ({group['code']})" if group["code"] else ""))
        out.append("")
        out.append(f"- seen {group['count']} times; callers: {callers}; HTTP status: {statuses}")
        out.append(f"- message: `{group['message']}`")
        out.append(f"- smallest reproducer (caller `{record['caller']}`, HTTP {record['status']}):")
        out.append("")
        out.append(fence(query, "graphql"))
        if variables:
            out.append("variables:")
            out.append(fence(json.dumps(variables, ensure_ascii=False), "json"))
        out.append("")
        if record.get("response"):
            out.append("response during the run:")
            out.append(fence(record["response"][:1500], "json"))
            out.append("")
        replay = group.get("replay")
        if replay is not None:
            reproduced = bool(replay["faults"])
            out.append(
                f"replayed after the run: HTTP {replay['status']} in {replay['seconds']} s — "
                + ("**reproduced**" if reproduced else "not reproduced (state may have changed)")
            )
            out.append("")
            out.append(fence(replay["body"][:1500], "json"))
            out.append("")
            if replay["log"]:
                out.append("server log lines during the replay:")
                out.append(fence("\n".join(replay["log"])))
                out.append("")
        if group["fuzz_log_lines"]:
            out.append("server log lines around the original request:")
            out.append(fence("\n".join(group["fuzz_log_lines"][:20])))
            out.append("")

    out.append("## Errors logged behind expected answers")
    out.append("")
    if not logged_only:
        out.append("None: every ERROR in the server log went with an `INTERNAL` answer listed above.")
        out.append("")
    for index, item in enumerate(logged_only, 1):
        out.append(f"### L{index}. `{item['message'][:200]}`")
        out.append("")
        out.append(
            f"- logged {item['count']} times (first {item['first_seen']}); "
            f"{item['candidates']} requests were in flight at those moments, {item['tried']} replayed"
        )
        confirmed = item["confirmed"]
        if confirmed:
            record = confirmed["record"]
            query, variables = query_text(record["request"])
            out.append(
                f"- **reproduced** by this request of `{record['operation']}` (caller `{record['caller']}`), "
                f"answered HTTP {confirmed['status']}:"
            )
            out.append("")
            out.append(fence(query, "graphql"))
            if variables:
                out.append(fence(json.dumps(variables, ensure_ascii=False), "json"))
            out.append("")
            out.append("answer:")
            out.append(fence(confirmed["body"][:1500], "json"))
            out.append("")
            out.append("server log lines during the replay:")
            out.append(fence("\n".join(confirmed["log"])))
            out.append("")
        else:
            out.append("- not reproduced by a replay; requests in flight when it was logged:")
            out.append("")
            for record in item["candidate_examples"]:
                query, _ = query_text(record["request"])
                out.append(f"  - `{record['operation']}` ({record['caller']}, HTTP {record['status']}, "
                           f"codes {[e.get('code') for e in record.get('errors') or []]})")
                out.append("")
                out.append(fence(query[:1200], "graphql"))
                out.append("")

    out.append("## Server log")
    out.append("")
    if log_messages:
        out.append("Warnings and errors by message (numbers folded), the whole run:")
        out.append("")
        for key, entry in sorted(log_messages.items(), key=lambda kv: -kv[1]["count"]):
            out.append(f"- ×{entry['count']}: `{entry['example'][:400]}`")
        out.append("")
    tail = [line for _, line in server_log][-30:]
    out.append("Last lines:")
    out.append("")
    out.append(fence("\n".join(tail) or "(empty)"))
    out.append("")

    text = "\n".join(out)
    output.write_text(text, encoding="utf-8")
    findings = []
    for group in ordered:
        record = group["smallest"]
        findings.append(
            {
                "operation": group["operation"],
                "kind": group["kind"],
                "code": group["code"],
                "message": group["message"],
                "count": group["count"],
                "callers": dict(group["callers"]),
                "statuses": {str(k): v for k, v in group["statuses"].items()},
                "caller": record["caller"],
                "request": record["request"],
                "response": record.get("response"),
                "replay": group.get("replay"),
                "fuzz_log_lines": group["fuzz_log_lines"],
            }
        )
    findings.append({"logged_behind_expected_answers": logged_only})
    (work / "findings.json").write_text(json.dumps(findings, ensure_ascii=False, indent=2), encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
