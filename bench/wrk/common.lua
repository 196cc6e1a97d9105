-- Shared by the wrk scripts of bench/: arguments, files, client addresses and the JSON summary.
-- wrk runs each script once per thread (init, request, response) and once more for done().
local common = {}

-- `wrk … -- key=value …` → { key = "value" }
function common.args(list)
  local out = {}
  for _, item in ipairs(list or {}) do
    local k, v = string.match(item, "^([%w_]+)=(.*)$")
    if k then out[k] = v end
  end
  return out
end

function common.lines(path)
  local out = {}
  if not path or path == "" then return out end
  for line in io.lines(path) do
    if line ~= "" then out[#out + 1] = line end
  end
  return out
end

-- Many clients behind one trusted proxy (TRUST_PROXY=127.0.0.1): per-address rate limits see a
-- realistic spread of addresses instead of one loopback client.
local xff_counter = 0
function common.xff()
  xff_counter = xff_counter + 1
  local n = xff_counter % 4096
  return string.format("10.%d.%d.%d", math.floor(n / 256) % 256, n % 256, 1 + (xff_counter % 250))
end

-- done(): one line the harness parses. Latency in microseconds.
function common.done(summary, latency)
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,' ..
    '"status":%d,"timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end

return common
