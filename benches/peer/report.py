#!/usr/bin/env python3
"""Helpers of benches/peer/run.sh.

    report.py cpu PID DB_USER DB_NAME
        prints {"server": TICKS, "db": {PID: TICKS, …}}: utime+stime (clock ticks, all
        threads) of process PID, and of each PostgreSQL backend of DB_USER on DB_NAME (found
        by their process titles, `postgres: [CLUSTER: ]USER DB …`). The run's PostgreSQL CPU
        is the sum of the backends' deltas: one that starts during a run counts from zero,
        one that ends during it (an idle pool connection closing) is left out.
    report.py result RESULTS.jsonl SCREEN SERVER MODE CLIENTS THREADS CPU_BEFORE CPU_AFTER < wrk-output
        appends one JSON line: wrk's PEER_RESULT line plus the CPU deltas.
    report.py render RESULTS.jsonl HEADER_FILE
        prints the Markdown report (the header file's text first).
"""

import json
import os
import sys


def ticks(pid):
    with open(f"/proc/{pid}/stat", "rb") as f:
        stat = f.read().decode("ascii", "replace")
    fields = stat[stat.rindex(")") + 2:].split()
    # fields[0] is field 3 (state): utime and stime are fields 14 and 15
    return int(fields[11]) + int(fields[12])


def db_ticks(user, db):
    """{backend pid: ticks} of every backend of USER on DB."""
    # `postgres: USER DB host(port) state`, or with a cluster_name (Debian sets one):
    # `postgres: 15/main: USER DB host(port) state`
    wanted = f"{user} {db} ".encode()
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read()
            if not cmdline.startswith(b"postgres: "):
                continue
            rest = cmdline[len(b"postgres: "):]
            if not rest.startswith(wanted):
                head, sep, tail = rest.partition(b": ")
                rest = tail if sep and b" " not in head else b""
            if rest.startswith(wanted):
                found[entry] = ticks(entry)
        except (FileNotFoundError, ProcessLookupError, PermissionError, ValueError):
            continue
    return found


def cmd_cpu(pid, user, db):
    print(json.dumps({"server": ticks(pid), "db": db_ticks(user, db)}, separators=(",", ":")))


def db_delta(before, after):
    """CPU the backends used between two samples: a backend that started in between counts
    from zero; one that ended in between (an idle pool connection closed, as a rule) is
    left out."""
    return sum(t - before.get(pid, 0) for pid, t in after.items())


def cmd_result(path, screen, server, mode, clients, threads, before, after):
    found = None
    text = sys.stdin.read()
    for line in text.splitlines():
        if line.startswith("PEER_RESULT "):
            found = json.loads(line[len("PEER_RESULT "):])
    if found is None:
        print(f"no PEER_RESULT line in wrk's output:\n{text}", file=sys.stderr)
        sys.exit(1)
    b = json.loads(before)
    a = json.loads(after)
    found.update({
        "screen": screen, "server": server, "mode": mode,
        "clients": int(clients), "threads": int(threads),
        "server_ticks": a["server"] - b["server"], "db_ticks": db_delta(b["db"], a["db"]),
        "clk_tck": os.sysconf("SC_CLK_TCK"),
    })
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(found, ensure_ascii=False) + "\n")
    errors = bad(found)
    rate = found["requests"] / (found["duration_us"] / 1e6) if found["duration_us"] else 0.0
    print(f"    {server:<12} {mode:<6} c={clients:<3} {found['requests']:>7} requests, "
          f"{rate:9.1f} req/s, p50 {found['latency_us']['p50'] / 1000:8.2f} ms, "
          f"server CPU {found['server_ticks']} ticks, PostgreSQL CPU {found['db_ticks']} ticks"
          + (f", {errors} BAD ANSWERS ({found['first_bad'][:160]})" if errors else ""))


def bad(r):
    s = r["socket_errors"]
    return r["bad_status"] + r["graphql_errors"] + s["connect"] + s["read"] + s["write"] + s["timeout"]


def bad_detail(runs):
    parts = {"HTTP status": 0, "GraphQL errors": 0, "timeouts": 0, "socket errors": 0}
    for r in runs:
        s = r["socket_errors"]
        parts["HTTP status"] += r["bad_status"]
        parts["GraphQL errors"] += r["graphql_errors"]
        parts["timeouts"] += s["timeout"]
        parts["socket errors"] += s["connect"] + s["read"] + s["write"]
    total = sum(parts.values())
    # wrk counts only completed requests; a timed-out or broken one is an attempt besides
    of = sum(r["requests"] for r in runs) + parts["timeouts"] + parts["socket errors"]
    if not total:
        return f"0 of {of}"
    return f"**{total}** of {of} (" + ", ".join(f"{v} {k}" for k, v in parts.items() if v) + ")"


def per_second(r):
    return r["requests"] / (r["duration_us"] / 1e6) if r["duration_us"] else 0.0


def cpu_ms(r, key):
    if not r["requests"]:
        return float("nan")
    return r[key] * 1000.0 / r["clk_tck"] / r["requests"]


def fmt_ms(us):
    return f"{us / 1000:.2f} ms"


def fmt_ratio(x):
    return "—" if x is None else f"{x:.2f}×"


def cmd_render(path, header_file):
    rows = [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]
    out = [open(header_file, encoding="utf-8").read().rstrip("\n"), ""]
    screens = []
    for r in rows:
        if r["screen"] not in screens:
            screens.append(r["screen"])
    any_bad = False
    for screen in screens:
        runs = {(r["server"], r["mode"]): r for r in rows if r["screen"] == screen}
        low = next((r for r in rows if r["screen"] == screen and r["mode"] == "low"), None)
        high = next((r for r in rows if r["screen"] == screen and r["mode"] == "high"), None)
        lc = low["clients"] if low else "?"
        hc = high["clients"] if high else "?"
        out.append(f"### {screen}")
        out.append("")
        out.append(f"| server | {lc} client p50 | {lc} client req/s | {hc} clients req/s | {hc} clients p50 "
                   f"| CPU ms/request (server) | CPU ms/request (PostgreSQL) | bad answers |")
        out.append("|---|---|---|---|---|---|---|---|")
        for server, label in (("qii", "qii"), ("postgraphile", "PostGraphile")):
            lo, hi = runs.get((server, "low")), runs.get((server, "high"))
            if lo is None or hi is None:
                continue
            errors = bad(lo) + bad(hi)
            any_bad = any_bad or errors > 0
            out.append(
                f"| {label} | {fmt_ms(lo['latency_us']['p50'])} | {per_second(lo):.1f} "
                f"| {per_second(hi):.1f} | {fmt_ms(hi['latency_us']['p50'])} "
                f"| {cpu_ms(hi, 'server_ticks'):.2f} | {cpu_ms(hi, 'db_ticks'):.2f} "
                f"| {bad_detail([lo, hi])} |"
            )
        q_lo, q_hi = runs.get(("qii", "low")), runs.get(("qii", "high"))
        p_lo, p_hi = runs.get(("postgraphile", "low")), runs.get(("postgraphile", "high"))
        if q_lo and q_hi and p_lo and p_hi:
            thr = per_second(q_hi) / per_second(p_hi) if per_second(p_hi) else None
            p50 = q_lo["latency_us"]["p50"] / p_lo["latency_us"]["p50"] if p_lo["latency_us"]["p50"] else None
            cpu_q = cpu_ms(q_hi, "server_ticks") + cpu_ms(q_hi, "db_ticks")
            cpu_p = cpu_ms(p_hi, "server_ticks") + cpu_ms(p_hi, "db_ticks")
            cpu = cpu_q / cpu_p if cpu_p else None
            out.append("")
            out.append(
                f"qii / PostGraphile: throughput at {hc} clients **{fmt_ratio(thr)}** (above 1: qii serves more), "
                f"p50 at {lc} client **{fmt_ratio(p50)}** (below 1: qii answers faster), "
                f"CPU per request, server + PostgreSQL, {fmt_ratio(cpu)}."
            )
        out.append("")
    if any_bad:
        out.append("**Some timed requests failed (non-200 status, GraphQL `errors`, timeouts or socket "
                   "errors): those runs' figures are not comparable.**")
        out.append("")
    print("\n".join(out))


def main(argv):
    if len(argv) == 5 and argv[1] == "cpu":
        cmd_cpu(*argv[2:])
    elif len(argv) == 10 and argv[1] == "result":
        cmd_result(*argv[2:])
    elif len(argv) == 4 and argv[1] == "render":
        cmd_render(*argv[2:])
    else:
        print(__doc__, file=sys.stderr)
        return 64
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
