-- GET BENCH_PATH (the baseline: /healthz), counting statuses like the command scripts.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

function init(args)
  common_init()
  path = os.getenv("BENCH_PATH") or "/healthz"
end

function request()
  sent = sent + 1
  return wrk.format("GET", path, headers_with())
end
