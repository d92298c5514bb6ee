-- wrk script for bench/run.py --mixed: readers at full speed over several pages.
--
-- The pages come from BENCH_PATHS (space-separated); each request takes the next
-- one, from one of 65,536 reader addresses (X-Forwarded-For, as in wrk.lua). It
-- counts the answers that carry "X-Cache: HIT" and prints one line at the end,
-- "BENCH_JSON {...}", with the requests, hits, latency percentiles and errors.

local paths = {}
for p in string.gmatch(os.getenv("BENCH_PATHS") or "/", "%S+") do
  table.insert(paths, p)
end
local threads = {}
local counter = 0
hits = 0
answers = 0

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function request()
  counter = counter + 1
  local n = counter % 65536
  wrk.headers["X-Forwarded-For"] =
    string.format("10.%d.%d.%d", id or 1, math.floor(n / 256), n % 256)
  return wrk.format("GET", paths[(counter % #paths) + 1])
end

function response(status, headers, body)
  answers = answers + 1
  if headers["X-Cache"] == "HIT" then
    hits = hits + 1
  end
end

function done(summary, latency, requests)
  local h, a = 0, 0
  for _, t in ipairs(threads) do
    h = h + t:get("hits")
    a = a + t:get("answers")
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "bytes": %d, "hits": %d, "answers": %d, ' ..
    '"p50_us": %d, "p75_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f, ' ..
    '"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}\n',
    summary.requests, summary.duration, summary.bytes, h, a,
    latency:percentile(50), latency:percentile(75), latency:percentile(90),
    latency:percentile(99), latency.max, latency.mean,
    e.connect, e.read, e.write, e.status, e.timeout))
end
