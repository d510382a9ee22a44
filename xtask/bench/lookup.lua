-- GET one invoice's distribution by number, at random among BENCH_COUNT numbers of each of
-- BENCH_THREADS create threads: base + t * 100000000 + 1 .. BENCH_COUNT.
function init(args)
  base = tonumber(os.getenv("BENCH_BASE"))
  count = tonumber(os.getenv("BENCH_COUNT"))
  threads = tonumber(os.getenv("BENCH_THREADS"))
  wrk.headers["X-Api-Key"] = os.getenv("BENCH_KEY")
  math.randomseed(os.time() + (id or 0))
end

function request()
  local t = math.random(1, threads)
  local n = base + t * 100000000 + math.random(1, count)
  return wrk.format("GET", "/api/v1/partner/invoice/distribution/v2?invoiceNumber=" .. n)
end
