#!/usr/bin/env python3
"""The adversarial load: the worst requests a caller can send, each from its own threads,
all at once, for a while; meanwhile /healthz is timed every 50 ms and the server's
resident memory read every 100 ms from /proc. Prints (and writes) a Markdown report.

    attack.py --url http://127.0.0.1:18090 --pid PID --token ADMIN_JWT [--duration 60]

Standard library only. Each attack names what the server must answer: a refusal code,
or data (a legal but heavy request); an answer of any other kind is counted as wrong and
the run exits 1, as it does when /healthz fails or any answer is `INTERNAL`.
"""

import argparse
import http.client
import json
import statistics
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request



def gql(query, variables=None):
    body = {"query": query}
    if variables is not None:
        body["variables"] = variables
    return body


def nest(depth):
    """`{ districts { nodes { towns { nodes { district { towns … } } } } } }`, `depth` times."""
    inner = "name"
    for _ in range(depth):
        inner = f"towns(first: 100) {{ nodes {{ district {{ {inner} }} }} }}"
    return f"{{ districts(first: 100) {{ nodes {{ {inner} }} }} }}"


def fragment_bomb(levels):
    """Fragments that spread the next one twice: 2^levels spreads when expanded."""
    parts = [f"fragment F{levels} on Activity {{ id title }}"]
    for i in range(levels - 1, -1, -1):
        parts.append(f"fragment F{i} on Activity {{ ...F{i + 1} ...F{i + 1} }}")
    return "{ activities(first: 100) { nodes { ...F0 } } } " + " ".join(parts)


def attacks(rules_source):
    slow = rules_source.replace(
        "fn index() {\n",
        "fn index() {\n    let s = \"\";\n    for i in 0..60000 { s += \"x\"; }\n"
        "    let n = 0;\n    for i in 0..4000000 { n += s.to_upper().len(); }\n",
        1,
    )
    wide_legal = " ".join(
        f"a{i}: activities(first: 100) {{ nodes {{ id title description }} }}" for i in range(20)
    )
    # name, threads, needs token, body (or a function returning one), accepted outcomes
    return [
        ("cycle districts→towns→district ×5 (the issue's query)", 1, False,
         gql(nest(5)), {"QUERY_TOO_COMPLEX", "QUERY_TOO_DEEP"}),
        ("cycle ×2 at the largest legal pages", 1, False,
         gql("{ districts(first: 1) { nodes { towns(first: 100) { nodes { district { "
             "towns(first: 50) { nodes { name } } } } } } } }"), {"data"}),
        ("fan-out orgUnits→activities→signups→member→homeTown→… (the issue's query)", 1, False,
         gql("{ orgUnits(first: 100) { nodes { activities { nodes { signups { nodes { member { "
             "homeTown { activities { nodes { signups { nodes { member { homeTown { name } } } } } } } } } } } } } } }"),
         {"QUERY_TOO_COMPLEX", "FORBIDDEN"}),
        ("1,000 aliases of activities(first: 100)", 1, False,
         gql("{ " + " ".join(f"a{i}: activities(first: 100) {{ nodes {{ id }} }}" for i in range(1000)) + " }"),
         {"TOO_MANY_ROOT_FIELDS"}),
        ("20 aliases × 100 activities with descriptions (legal)", 2, False,
         gql("{ " + wide_legal + " }"), {"data", "RESPONSE_TOO_LARGE"}),
        ("200 aliased login guesses", 1, False,
         gql("mutation { " + " ".join(
             f"g{i}: login(username: \"admin\", password: \"guess-{i}\") {{ accessToken }}"
             for i in range(200)) + " }"), {"TOO_MANY_ROOT_FIELDS"}),
        ("fragment spreads doubling 12 times", 1, False,
         gql(fragment_bomb(12)), {"QUERY_TOO_COMPLEX", "GRAPHQL_VALIDATION_FAILED", "BAD_REQUEST"}),
        ("first: 1000000", 1, False,
         gql("{ activities(first: 1000000) { nodes { id } } }"), {"BAD_USER_INPUT"}),
        ("depth 24", 1, False,
         gql("{ orgUnit(code: \"x\") { " + "parent { " * 23 + "name" + " }" * 24 + " }"),
         {"QUERY_TOO_DEEP"}),
        ("depth 40 (past the parser's nesting limit)", 1, False,
         gql("{ orgUnit(code: \"x\") { " + "parent { " * 39 + "name" + " }" * 40 + " }"),
         {"GRAPHQL_PARSE_FAILED"}),
        ("batch of 10 legal list queries", 1, False,
         [gql("{ activities(first: 100) { totalCount nodes { id title startsAt orgUnit { name town { name } } } } }")] * 10,
         {"data"}),
        ("batch of 11", 1, False,
         [gql("{ activities(first: 1) { totalCount } }")] * 11, {"BATCH_TOO_LARGE"}),
        ("slow rule script (preview)", 2, True,
         gql("query($s: String!) { previewRanking(source: $s, period: \"2017-10\") { version } }", {"s": slow}),
         {"RULE_ERROR", "TIMEOUT"}),
        ("search of 60,000 characters", 1, False,
         gql("query($s: String!) { activities(filter: { search: $s }) { totalCount } }", {"s": "青" * 60000}),
         {"BAD_USER_INPUT"}),
        ("NUL in a registration", 1, False,
         gql("mutation { registerMember(input: { nickname: \"a\\u0000b\" }) { id } }"), {"BAD_USER_INPUT"}),
        ("dates of year 10000 and 5000 BC", 1, False,
         gql("{ a: activities(filter: { startsFrom: \"+10000-01-01T00:00:00Z\" }) { totalCount } "
             "b: activities(filter: { startsBefore: \"-5000-01-01T00:00:00Z\" }) { totalCount } }"),
         {"BAD_USER_INPUT", "data"}),
        ("concurrent recomputeRanking", 2, True,
         gql("mutation { recomputeRanking(period: \"2017-11\") { version } }"), {"data"}),
        ("3 MB body", 1, False, "BIG", {"413"}),
    ]


class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.outcomes = {}
        self.latencies = []
        self.wrong = []

    def add(self, outcome, seconds, accepted, detail):
        with self.lock:
            self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
            self.latencies.append(seconds)
            if outcome not in accepted and len(self.wrong) < 3:
                self.wrong.append(detail[:300])


def outcome_of(status, body):
    if status == 413:
        return "413"
    try:
        answer = json.loads(body)
    except ValueError:
        return f"HTTP {status}, not JSON"
    answers = answer if isinstance(answer, list) else [answer]
    codes = []
    for a in answers:
        errors = a.get("errors") or []
        if errors:
            codes.extend(e.get("extensions", {}).get("code", "NO_CODE") for e in errors)
        elif a.get("data") is not None:
            codes.append("data")
    if not codes:
        return f"HTTP {status}, empty"
    # The most telling code of the answer: a refusal over data.
    refusals = [c for c in codes if c != "data"]
    return refusals[0] if refusals else "data"


def post_big(url, timeout):
    """Announces a 3 MB body and waits for the answer before sending it: the server refuses
    it from its Content-Length alone (sending it all first would race the server closing
    the connection after its 413, and the client would see a broken pipe instead)."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        conn.putrequest("POST", "/graphql")
        conn.putheader("content-type", "application/json")
        conn.putheader("content-length", str(3 << 20))
        conn.endheaders()
        response = conn.getresponse()
        return response.status, response.read()
    except (OSError, http.client.HTTPException) as e:
        return 0, str(e).encode()
    finally:
        conn.close()


def post(url, token, body, timeout=60):
    if body == "BIG":
        return post_big(url, timeout)
    data = json.dumps(body).encode()
    request = urllib.request.Request(url + "/graphql", data=data, method="POST")
    request.add_header("content-type", "application/json")
    if token:
        request.add_header("authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except (urllib.error.URLError, ConnectionError, TimeoutError) as e:
        return 0, str(e).encode()


def attacker(url, token, body, accepted, tally, stop):
    while not stop.is_set():
        start = time.monotonic()
        status, raw = post(url, token, body)
        seconds = time.monotonic() - start
        outcome = outcome_of(status, raw) if status else "no answer"
        tally.add(outcome, seconds, accepted, raw.decode("utf-8", "replace"))


def health(url, samples, stop):
    while not stop.is_set():
        start = time.monotonic()
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=5) as response:
                ok = response.status == 200
                response.read()
        except Exception:  # noqa: BLE001 - any failure counts as one
            ok = False
        samples.append((time.monotonic() - start, ok))
        time.sleep(0.05)


def memory(pid, samples, stop):
    while not stop.is_set():
        samples.append(rss_kib(pid, "VmRSS"))
        time.sleep(0.1)


def rss_kib(pid, field):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def pct(values, p):
    if not values:
        return 0.0
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--rules", required=True, help="the shipped rules/qii/v2.rhai")
    ap.add_argument("--duration", type=float, default=60)
    ap.add_argument("--out")
    ap.add_argument("--title", default="")
    args = ap.parse_args()

    source = open(args.rules, encoding="utf-8").read()
    if "fn index() {\n" not in source:
        sys.exit("the rules file has no `fn index() {` to slow down")
    stop = threading.Event()
    baseline = rss_kib(args.pid, "VmRSS")
    probes, rss = [], []
    threads = [
        threading.Thread(target=health, args=(args.url, probes, stop), daemon=True),
        threading.Thread(target=memory, args=(args.pid, rss, stop), daemon=True),
    ]
    tallies = []
    for name, count, needs_token, body, accepted in attacks(source):
        tally = Tally()
        tallies.append((name, count, accepted, tally))
        for _ in range(count):
            threads.append(threading.Thread(
                target=attacker,
                args=(args.url, args.token if needs_token else None, body, accepted, tally, stop),
                daemon=True))
    started = time.monotonic()
    for t in threads:
        t.start()
    while time.monotonic() - started < args.duration:
        time.sleep(0.5)
        elapsed = int(time.monotonic() - started)
        print(f"\r[adversarial] {elapsed:>3}/{int(args.duration)} s, "
              f"{sum(sum(t.outcomes.values()) for _, _, _, t in tallies)} answers, "
              f"RSS {rss[-1] // 1024 if rss else 0} MB", end="", file=sys.stderr, flush=True)
    stop.set()
    print("", file=sys.stderr)
    for t in threads:
        t.join(timeout=90)
    peak = rss_kib(args.pid, "VmHWM")

    lines = []
    ok = True
    lines.append(f"### {args.title}" if args.title else "### Adversarial load")
    lines.append("")
    lines.append(f"{len(threads) - 2} attacking connections for {args.duration:.0f} s, all at once.")
    lines.append("")
    lines.append("| attack | connections | answers | outcomes | p50 | max | wrong |")
    lines.append("|---|---|---|---|---|---|---|")
    for name, count, accepted, tally in tallies:
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(tally.outcomes.items(), key=lambda kv: -kv[1]))
        wrong = sum(v for k, v in tally.outcomes.items() if k not in accepted)
        ok &= wrong == 0 and "INTERNAL" not in tally.outcomes
        lines.append(
            f"| {name} | {count} | {sum(tally.outcomes.values())} | {outcomes} | "
            f"{pct(tally.latencies, 50) * 1000:.0f} ms | {max(tally.latencies, default=0) * 1000:.0f} ms | {wrong} |")
    latencies = [s for s, _ in probes]
    failed = sum(1 for _, good in probes if not good)
    ok &= failed == 0
    lines.append("")
    lines.append(
        f"`/healthz` meanwhile: {len(probes)} probes, p50 {pct(latencies, 50) * 1000:.1f} ms, "
        f"p99 {pct(latencies, 99) * 1000:.1f} ms, max {max(latencies, default=0) * 1000:.1f} ms, "
        f"{failed} failed.")
    lines.append(
        f"Server resident memory: {baseline / 1024:.0f} MB before, peak {peak / 1024:.0f} MB (VmHWM), "
        f"p50 during the run {pct(rss, 50) / 1024:.0f} MB.")
    for name, _, accepted, tally in tallies:
        for detail in tally.wrong:
            lines.append(f"\n- wrong answer to *{name}*: `{detail}`")
    report = "\n".join(lines) + "\n"
    print(report)
    if args.out:
        with open(args.out, "a", encoding="utf-8") as f:
            f.write(report + "\n")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
