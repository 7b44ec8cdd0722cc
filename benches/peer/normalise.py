#!/usr/bin/env python3
"""Turns each server's answer to a screen into the same canonical JSON, so that
benches/peer/run.sh can check that qii and PostGraphile carry identical data before it
times them.

    normalise.py SCREEN SERVER FILE           print FILE's canonical form (SERVER: qii | postgraphile)
    normalise.py check SCREEN QII_FILE PG_FILE  exit 0 when both canonical forms are equal,
                                               else print where they differ and exit 1

One function per screen and server: `<screen>_<server>` with dashes as underscores. Each
takes the decoded `data` object and returns plain lists, dicts, strings and numbers. Floats
are rounded to 9 decimal places (qii recomputes a few contributions in Rust, PostGraphile
reads the stored JSON: they differ in the 15th digit); timestamps become UTC ISO-8601.
"""

import json
import sys
from datetime import datetime, timezone


class AnswerError(Exception):
    pass


def num(value):
    if isinstance(value, float):
        return round(value, 9)
    return value


def utc(text):
    """`2017-11-01T09:00:00+08:00`, `…Z`, `….000000+00:00` → `2017-11-01T01:00:00Z`."""
    if text is None:
        return None
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise AnswerError(f"timestamp without a zone: {text!r}")
    moment = moment.astimezone(timezone.utc)
    fmt = "%Y-%m-%dT%H:%M:%S.%fZ" if moment.microsecond else "%Y-%m-%dT%H:%M:%SZ"
    return moment.strftime(fmt)


def items(value):
    """A list field read either as a plain list or as a connection (`nodes`, or `edges`
    of `node`), so that qii's list → connection change needs no edit here."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        if "nodes" in value:
            return value["nodes"]
        if "edges" in value:
            return [edge["node"] for edge in value["edges"]]
    raise AnswerError(f"expected a list or a connection, got {json.dumps(value)[:200]}")


def name_of(unit):
    return None if unit is None else unit.get("name")


# -- towns-activities-counts: the multiset of (town, activity title, sign-up count) --------

def towns_activities_counts_qii(data):
    rows = [
        [town["name"], activity["title"], activity["signupCount"]]
        for town in items(data["orgUnits"])
        for activity in items(town["activities"])
    ]
    return {"towns": len(items(data["orgUnits"])), "rows": sorted(rows)}


def towns_activities_counts_postgraphile(data):
    rows = [
        [town["name"], activity["title"], activity["activitySignupsByActivityId"]["totalCount"]]
        for town in items(data["allOrgUnits"])
        for activity in items(town["activitiesByOrgUnitId"])
    ]
    return {"towns": len(items(data["allOrgUnits"])), "rows": sorted(rows)}


# -- activity-list: one month's first page of 20 by start time, in order, plus totalCount --

def activity_list_qii(data):
    page = data["activities"]
    return {
        "totalCount": page["totalCount"],
        "rows": [
            [
                a["title"],
                utc(a["startsAt"]),
                a["capacity"],
                a["signupCount"],
                name_of(a["orgUnit"]),
                name_of((a["orgUnit"] or {}).get("town")),
            ]
            for a in items(page)
        ],
    }


def activity_list_postgraphile(data):
    page = data["peerActivitiesStartingBetween"]
    return {
        "totalCount": page["totalCount"],
        "rows": [
            [
                a["title"],
                utc(a["startsAt"]),
                a["capacity"],
                a["activitySignupsByActivityId"]["totalCount"],
                name_of(a["orgUnitByOrgUnitId"]),
                name_of((a["orgUnitByOrgUnitId"] or {}).get("orgUnitByTownId")),
            ]
            for a in items(page)
        ],
    }


# -- ranking-board: a stored month's town ranking with rank change and dimensions ---------

def dimensions(dims):
    return [[d["key"], d.get("label"), num(d["contribution"])] for d in dims]


def ranking_board_qii(data):
    ranking = data["ranking"]
    entries = [
        [e["rank"], e["rankChange"], num(e["total"]), name_of(e["orgUnit"]), dimensions(e["dimensions"])]
        for e in items(ranking["entries"])
    ]
    return {
        "period": ranking["period"],
        "version": ranking["version"],
        "contentHash": ranking["contentHash"],
        "entries": sorted(entries, key=lambda e: (e[0], e[3] or "")),
    }


def ranking_board_postgraphile(data):
    current = items(data["current"])
    if len(current) != 1:
        raise AnswerError(f"expected one stored ranking for the period, got {len(current)}")
    snapshot = current[0]
    previous = items(data["previous"])
    before = {}
    for snap in previous:
        for score in items(snap["unitScoresBySnapshotId"]):
            before[score["orgUnitId"]] = score["rank"]
    entries = []
    for score in items(snapshot["unitScoresBySnapshotId"]):
        was = before.get(score["orgUnitId"])
        entries.append([
            score["rank"],
            None if was is None else was - score["rank"],  # places gained, as qii's rankChange
            num(score["total"]),
            name_of(score["orgUnitByOrgUnitId"]),
            dimensions(score["dimensions"]),
        ])
    return {
        "period": snapshot["period"],
        "version": snapshot["version"],
        "contentHash": snapshot["contentHash"],
        "entries": sorted(entries, key=lambda e: (e[0], e[3] or "")),
    }


# -- driver -----------------------------------------------------------------------------

def normalise(screen, server, text):
    try:
        answer = json.loads(text)
    except json.JSONDecodeError as err:
        raise AnswerError(f"{server}: not JSON ({err}): {text[:300]!r}")
    if not isinstance(answer, dict):
        raise AnswerError(f"{server}: not a GraphQL answer: {text[:300]!r}")
    if answer.get("errors"):
        raise AnswerError(f"{server}: GraphQL errors: {json.dumps(answer['errors'], ensure_ascii=False)[:1000]}")
    if not answer.get("data"):
        raise AnswerError(f"{server}: no data: {text[:300]!r}")
    fn = globals().get(f"{screen.replace('-', '_')}_{server}")
    if fn is None:
        raise AnswerError(f"no normaliser for screen {screen!r} and server {server!r} in normalise.py")
    try:
        return fn(answer["data"])
    except (KeyError, TypeError, IndexError) as err:
        raise AnswerError(
            f"{server}: answer does not have the shape normalise.py expects for {screen} "
            f"({type(err).__name__}: {err}); start: {text[:300]}"
        )


def first_difference(a, b, path="$"):
    if type(a) is not type(b):
        return f"{path}: {json.dumps(a, ensure_ascii=False)[:200]} vs {json.dumps(b, ensure_ascii=False)[:200]}"
    if isinstance(a, dict):
        for key in sorted(set(a) | set(b)):
            if key not in a or key not in b:
                return f"{path}.{key}: only in {'qii' if key in a else 'postgraphile'}"
            found = first_difference(a[key], b[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(a, list):
        for i, (x, y) in enumerate(zip(a, b)):
            found = first_difference(x, y, f"{path}[{i}]")
            if found:
                return found
        if len(a) != len(b):
            return f"{path}: {len(a)} items (qii) vs {len(b)} (postgraphile)"
        return None
    if a != b:
        return f"{path}: {json.dumps(a, ensure_ascii=False)} (qii) vs {json.dumps(b, ensure_ascii=False)} (postgraphile)"
    return None


def summary(canonical):
    parts = []
    for key, value in canonical.items():
        parts.append(f"{key}={len(value)} rows" if isinstance(value, list) else f"{key}={value}")
    return ", ".join(parts)


def main(argv):
    if len(argv) == 5 and argv[1] == "check":
        _, _, screen, qii_file, pg_file = argv
        try:
            a = normalise(screen, "qii", open(qii_file, encoding="utf-8").read())
            b = normalise(screen, "postgraphile", open(pg_file, encoding="utf-8").read())
        except AnswerError as err:
            print(f"{screen}: {err}", file=sys.stderr)
            return 2
        if a != b:
            print(f"{screen}: the two answers differ: {first_difference(a, b)}", file=sys.stderr)
            return 1
        print(f"{screen}: same data ({summary(a)})")
        return 0
    if len(argv) == 4:
        _, screen, server, path = argv
        try:
            print(json.dumps(normalise(screen, server, open(path, encoding="utf-8").read()),
                             ensure_ascii=False, indent=1))
        except AnswerError as err:
            print(f"{screen}: {err}", file=sys.stderr)
            return 2
        return 0
    print(__doc__, file=sys.stderr)
    return 64


if __name__ == "__main__":
    sys.exit(main(sys.argv))
