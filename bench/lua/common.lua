-- Shared by the bench scripts: per-thread counters, a unique Idempotency-Key per request, status counts, and a
-- JSON summary on stdout (one line starting with BENCH_JSON) that bench/http_load.py reads.
-- Settings come from the environment: BENCH_TOKEN (bearer token), BENCH_RUN (a unique run prefix).

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("thread_id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function common_init()
  sent = 0
  statuses = {}
  run = os.getenv("BENCH_RUN") or tostring(os.time())
  token = os.getenv("BENCH_TOKEN")
  math.randomseed(os.time() + thread_id * 7919)
end

-- A key no other request of any run ever had: run prefix, thread, counter (lower-case, a valid identifier too).
function unique_key()
  sent = sent + 1
  return string.format("%s-t%d-%d", run, thread_id, sent)
end

function headers_with(extra)
  local h = { ["Content-Type"] = "application/json" }
  if token then h["Authorization"] = "Bearer " .. token end
  for k, v in pairs(extra or {}) do h[k] = v end
  return h
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status >= 300 and first_error == nil then
    first_error = string.format("%d %s", status, string.sub(body or "", 1, 300))
  end
end

local function json_string(text)
  text = string.gsub(text, '[%c"\\]', function(c) return string.format("\\u%04x", string.byte(c)) end)
  return '"' .. text .. '"'
end

local function percentile_curve(latency)
  local points = {}
  local ps = {}
  for p = 1, 99 do table.insert(ps, p) end
  for _, p in ipairs({ 99.5, 99.9, 99.99, 100 }) do table.insert(ps, p) end
  for _, p in ipairs(ps) do
    table.insert(points, string.format("[%g, %d]", p, latency:percentile(p)))
  end
  return "[" .. table.concat(points, ", ") .. "]"
end

function done(summary, latency, requests)
  local all = {}
  local error_seen = ""
  for _, thread in ipairs(threads) do
    error_seen = thread:get("first_error") or error_seen
    local counts = thread:get("statuses") or {}
    for status, count in pairs(counts) do
      all[status] = (all[status] or 0) + count
    end
  end
  local parts = {}
  for status, count in pairs(all) do table.insert(parts, string.format('"%d": %d', status, count)) end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "bytes": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"statuses": {%s}, "first_error": %s, "latency_us": {"mean": %.1f, "stdev": %.1f, "min": %d, "max": %d, ' ..
    '"p50": %d, "p90": %d, "p99": %d, "p999": %d}, "curve": %s}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    table.concat(parts, ", "), json_string(error_seen),
    latency.mean, latency.stdev, latency.min, latency.max,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
    percentile_curve(latency)))
end
