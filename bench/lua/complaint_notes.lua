-- POST /complaints/{id}/notes on the seeded complaints (c-bench-000000 ... BENCH_COMPLAINTS - 1), picked at random.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

local body = '{"text": "已电话联系住户，保洁公司明早清运 — called the resident back", "visibility": "internal"}'

function init(args)
  common_init()
  complaints = tonumber(os.getenv("BENCH_COMPLAINTS"))
end

function request()
  local key = unique_key()
  local path = string.format("/complaints/c-bench-%06d/notes", math.random(0, complaints - 1))
  return wrk.format("POST", path, headers_with({ ["Idempotency-Key"] = key }), body)
end
