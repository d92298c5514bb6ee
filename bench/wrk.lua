-- wrk script for bench/run.py.
--
-- Each request comes from one of 65,536 reader addresses (X-Forwarded-For; the
-- runner starts gunicorn with CIRCLE_PROXY_COUNT=1), so per-address limits such
-- as the API's 300 reads a minute see many readers, as in production, rather
-- than one client hammering from 127.0.0.1.
-- At the end it prints one line, "BENCH_JSON {...}", with the exact latency
-- percentiles (microseconds) and every kind of error wrk counts.

local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function request()
  counter = counter + 1
  local n = counter % 65536
  wrk.headers["X-Forwarded-For"] =
    string.format("10.%d.%d.%d", id or 1, math.floor(n / 256), n % 256)
  return wrk.format(nil)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "bytes": %d, ' ..
    '"p50_us": %d, "p75_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f, ' ..
    '"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(75), latency:percentile(90),
    latency:percentile(99), latency.max, latency.mean,
    e.connect, e.read, e.write, e.status, e.timeout))
end
