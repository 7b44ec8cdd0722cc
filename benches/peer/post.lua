-- wrk script for benches/peer/run.sh: POSTs one GraphQL request body over and over and
-- checks every answer.
--
--   wrk -t1 -c1 -d15s --latency -s post.lua http://127.0.0.1:18080/graphql -- BODY_FILE [AUTHORIZATION]
--
-- BODY_FILE holds the JSON body ({"query": "..."}); AUTHORIZATION, when given and not
-- empty, is sent as the Authorization header (e.g. "Bearer eyJ…").
-- An answer counts as bad when its status is not 200 or its body carries GraphQL
-- `"errors"` (qii and PostGraphile both answer some errors with HTTP 200). wrk itself
-- counts only non-2xx/3xx statuses and socket errors; `done` prints one line
--   PEER_RESULT {json}
-- with the request count, duration, latency percentiles and both error counts.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  local path = args[1]
  if path == nil then
    error("post.lua: pass the body file after --")
  end
  local file = assert(io.open(path, "rb"))
  local body = file:read("*a")
  file:close()
  wrk.method = "POST"
  wrk.body = body
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Accept"] = "application/json"
  if args[2] ~= nil and args[2] ~= "" then
    wrk.headers["Authorization"] = args[2]
  end
  bad_status = 0
  graphql_errors = 0
  checked = 0
  first_bad = ""
end

function response(status, headers, body)
  checked = checked + 1
  if status ~= 200 then
    bad_status = bad_status + 1
    if first_bad == "" then first_bad = "HTTP " .. status .. ": " .. string.sub(body or "", 1, 200) end
  elseif body ~= nil and string.find(body, '"errors"', 1, true) then
    graphql_errors = graphql_errors + 1
    if first_bad == "" then first_bad = string.sub(body, 1, 200) end
  end
end

local function json_string(s)
  s = string.gsub(s, '[%c"\\]', function(c)
    if c == '"' then return '\\"' end
    if c == "\\" then return "\\\\" end
    return string.format("\\u%04x", string.byte(c))
  end)
  return '"' .. s .. '"'
end

function done(summary, latency, requests)
  local bad, errors, seen, sample = 0, 0, 0, ""
  for _, thread in ipairs(threads) do
    bad = bad + (thread:get("bad_status") or 0)
    errors = errors + (thread:get("graphql_errors") or 0)
    seen = seen + (thread:get("checked") or 0)
    local s = thread:get("first_bad") or ""
    if sample == "" then sample = s end
  end
  local e = summary.errors
  io.write(string.format(
    'PEER_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,"checked":%d,' ..
    '"bad_status":%d,"graphql_errors":%d,"non_2xx_3xx":%d,' ..
    '"socket_errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d},' ..
    '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f},"first_bad":%s}\n',
    summary.requests, summary.duration, summary.bytes, seen,
    bad, errors, e.status,
    e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    json_string(sample)))
end
