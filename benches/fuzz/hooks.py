"""Schemathesis hooks for the qii fuzzing harness (loaded through SCHEMATHESIS_HOOKS).

Registers one check, `qii_server_fault`, which fails a response that shows a fault of the
server rather than a refusal of the caller:

- an HTTP status of 500 or more;
- a body that is not JSON, or JSON that is not an object;
- any `errors[]` entry whose `extensions.code` is `INTERNAL` or missing.

Expected refusals (`FORBIDDEN`, `BAD_USER_INPUT`, `UNAUTHENTICATED`, ...) pass.

When FUZZ_LOG names a file, every response the check sees is appended to it as one JSON
line (caller, operation, request body, status, the error codes and messages, and whether it
was a fault): `analyze.py` builds the summary from these lines, so it does not depend on
schemathesis's own reporting of failures.
"""

from __future__ import annotations

import json
import os
import threading
import time

import schemathesis

_LOG_PATH = os.environ.get("FUZZ_LOG")
_CALLER = os.environ.get("FUZZ_CALLER", "unknown")
_LOCK = threading.Lock()
_MAX_BODY_LOGGED = 4000


def _request_body(response) -> str:
    body = getattr(response.request, "body", None)
    if body is None:
        return ""
    if isinstance(body, bytes):
        return body.decode("utf-8", "replace")
    return str(body)


def _classify(response) -> tuple[list[dict], dict | None, bool]:
    """Return (faults, payload, is_json); each fault is {kind, code, message, path}."""
    faults: list[dict] = []
    status = response.status_code
    payload = None
    is_json = True
    try:
        if not response.content or not response.content.strip():
            raise ValueError("empty body")
        payload = json.loads(response.content.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        is_json = False
        faults.append(
            {
                "kind": "NOT_JSON",
                "code": None,
                "message": f"body is not JSON ({exc}): {(response.content or b'')[:200]!r}",
                "path": None,
            }
        )
    if status >= 500:
        faults.append({"kind": "HTTP_5XX", "code": None, "message": f"HTTP {status}", "path": None})
    if is_json and not isinstance(payload, dict):
        faults.append(
            {
                "kind": "NOT_AN_OBJECT",
                "code": None,
                "message": f"JSON body is a {type(payload).__name__}, not an object",
                "path": None,
            }
        )
    if isinstance(payload, dict):
        errors = payload.get("errors") or []
        if not isinstance(errors, list):
            faults.append(
                {"kind": "MALFORMED_ERRORS", "code": None, "message": "`errors` is not a list", "path": None}
            )
            errors = []
        for error in errors:
            if not isinstance(error, dict):
                faults.append(
                    {"kind": "MALFORMED_ERRORS", "code": None, "message": repr(error)[:300], "path": None}
                )
                continue
            extensions = error.get("extensions")
            code = extensions.get("code") if isinstance(extensions, dict) else None
            if code is None:
                faults.append(
                    {
                        "kind": "NO_CODE",
                        "code": None,
                        "message": str(error.get("message")),
                        "path": error.get("path"),
                    }
                )
            elif code == "INTERNAL":
                faults.append(
                    {
                        "kind": "INTERNAL",
                        "code": code,
                        "message": str(error.get("message")),
                        "path": error.get("path"),
                    }
                )
    return faults, payload, is_json


def _log(case, response, faults, payload, is_json) -> None:
    if not _LOG_PATH:
        return
    codes: list[dict] = []
    if isinstance(payload, dict) and isinstance(payload.get("errors"), list):
        for error in payload["errors"]:
            if isinstance(error, dict):
                ext = error.get("extensions")
                codes.append(
                    {
                        "code": ext.get("code") if isinstance(ext, dict) else None,
                        "message": str(error.get("message"))[:500],
                        "path": error.get("path"),
                    }
                )
    response_text = None
    if faults:
        response_text = response.content.decode("utf-8", "replace")[:_MAX_BODY_LOGGED]
    phase = None
    try:
        meta = case.meta
        if meta is not None:
            phase = meta.phase.name.value
    except Exception:  # noqa: BLE001 - metadata is informational only
        phase = None
    record = {
        "t": time.time(),
        "caller": _CALLER,
        "operation": case.operation.label,
        "case_id": case.id,
        "phase": phase,
        "request": _request_body(response),
        "status": response.status_code,
        "elapsed": response.elapsed,
        "json": is_json,
        "has_data": isinstance(payload, dict) and payload.get("data") is not None,
        "errors": codes,
        "faults": faults,
        "response": response_text,
    }
    line = json.dumps(record, ensure_ascii=False)
    with _LOCK:
        with open(_LOG_PATH, "a", encoding="utf-8") as out:
            out.write(line + "\n")


@schemathesis.check
def qii_server_fault(ctx, response, case):
    """qii: a 5xx, a non-JSON body, or a GraphQL error whose extensions.code is INTERNAL or missing."""
    faults, payload, is_json = _classify(response)
    _log(case, response, faults, payload, is_json)
    if faults:
        first = faults[0]
        detail = "; ".join(
            f"{fault['kind']}: {fault['message']}" + (f" at {fault['path']}" if fault.get("path") else "")
            for fault in faults
        )
        raise AssertionError(f"server fault ({first['kind']}) - {detail}")
    return None


# --- strategies for qii's custom scalars -------------------------------------------------
# Without these schemathesis cannot generate `Period`, `NaiveDate` or `JSON` arguments; the
# mix below sends well-formed values of the demo data's span (Oct-Dec 2017) most of the time,
# so queries reach the services, and malformed or extreme ones the rest.


def _register_scalars() -> None:
    from hypothesis import strategies as st
    from schemathesis.graphql import nodes

    valid_periods = [
        "2017-10", "2017-11", "2017-12", "2017-09", "2018-01", "2017-W43", "2017-W44",
        "2017-W48", "2017-W01", "2017-W52", "2017-Q4", "2017-Q3", "2018-Q1",
        "2017-10-01..2017-10-15", "2017-10-01..2017-12-31", "2017-11-05..2017-11-05",
    ]
    edge_periods = [
        "", " ", "2017", "2017-00", "2017-13", "2017-1", "0000-01", "0001-01", "9999-12",
        "10000-01", "262143-12", "-1-01", "2017-W00", "2017-W53", "2020-W53", "2017-W54",
        "2017-W99", "2017-Q0", "2017-Q5", "2017-Q9", "2017-12-31..2017-01-01",
        "0001-01-01..9999-12-31", "1900-01-01..2100-12-31", "2017-02-29..2017-03-01",
        "2017-10-01..", "..2017-10-01", "2017-10-01...2017-10-02", "2017-10-01..2017-10-01..2017-10-02",
        "2017-10-01 .. 2017-10-15", "2017-１０", "２０１７-10", "2017-10\u0000",
        "9223372036854775807-01", "2017-W43-1", "2017-q4", "2017-w43",
    ]
    period = st.one_of(
        st.sampled_from(valid_periods),
        st.sampled_from(edge_periods),
        st.from_regex(r"\A-?[0-9]{1,6}-([0-9]{1,3}|W[0-9]{1,3}|Q[0-9])\Z"),
        st.from_regex(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}\.\.[0-9]{4}-[0-9]{2}-[0-9]{2}\Z"),
        st.text(max_size=24),
    )
    schemathesis.graphql.scalar("Period", period.map(nodes.String))

    date = st.one_of(
        st.dates().map(str),
        st.sampled_from(
            ["2017-10-01", "2017-11-15", "2017-12-31", "2018-01-01", "0001-01-01", "9999-12-31",
             "2017-02-29", "2017-13-01", "+262143-12-31", "-262143-01-01", "", "2017-10-01T00:00:00Z"]
        ),
        st.text(max_size=16),
    )
    schemathesis.graphql.scalar("NaiveDate", date.map(nodes.String))

    times = st.times().map(lambda t: t.isoformat())
    datetime = st.one_of(
        st.tuples(st.dates(), times).map(lambda pair: f"{pair[0]}T{pair[1]}Z"),
        st.sampled_from(
            ["2017-10-31T16:00:00Z", "2017-11-30T16:00:00Z", "2017-12-01T08:00:00+08:00",
             "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "+262143-12-31T23:59:59Z",
             "-262143-01-01T00:00:00Z", "2017-10-01", "2017-10-01T25:00:00Z", "",
             "1970-01-01T00:00:00Z", "2017-10-01T00:00:00.999999999999Z"]
        ),
        st.text(max_size=24),
    )
    schemathesis.graphql.scalar("DateTime", datetime.map(nodes.String))

    json_value = st.one_of(
        st.text(max_size=32).map(nodes.String),
        st.integers(min_value=-(2**31), max_value=2**31 - 1).map(nodes.Int),
        st.booleans().map(nodes.Boolean),
        st.just(nodes.Null),
    )
    schemathesis.graphql.scalar("JSON", json_value)


_register_scalars()
