-- POST createInvoice with a number of its own per request: thread t of the run sends
-- base + t * 100000000 + 1, 2, 3, ... With max > 0 (seeding, one thread), wrk exits once `max`
-- answers have come (wrk's own run lasts its whole duration), printing its failures first.
-- Environment: BENCH_BODY_PREFIX and BENCH_BODY_SUFFIX (files: the body before and after the
-- invoice number), BENCH_BASE, BENCH_MAX, BENCH_KEY.
local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

local function slurp(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

function init(args)
  prefix = slurp(os.getenv("BENCH_BODY_PREFIX"))
  suffix = slurp(os.getenv("BENCH_BODY_SUFFIX"))
  n = tonumber(os.getenv("BENCH_BASE")) + id * 100000000
  max = tonumber(os.getenv("BENCH_MAX") or "0")
  answered = 0
  failed = 0
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["X-Api-Key"] = os.getenv("BENCH_KEY")
end

function request()
  n = n + 1
  return wrk.format(nil, "/api/v1/partner/invoice", nil, prefix .. n .. suffix)
end

function response(status, headers, body)
  answered = answered + 1
  if status ~= 200 then
    failed = failed + 1
  end
  if max > 0 and answered >= max then
    io.write(string.format("bench-failed: %d\n", failed))
    io.flush()
    os.exit(0)
  end
end

function done(summary, latency, requests)
  local failures = 0
  for _, t in ipairs(threads) do
    failures = failures + (t:get("failed") or 0)
  end
  io.write(string.format("bench-failed: %d\n", failures))
end
