-- GET the path wrk was given, with the key from BENCH_KEY.
function init(args)
  wrk.headers["X-Api-Key"] = os.getenv("BENCH_KEY")
end
