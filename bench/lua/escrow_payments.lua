-- POST /accounts/{id}/payments: money in for a random household of a random account; a unique movement id and bank
-- reference per request (one payment, one reference), and a unique Idempotency-Key (required on money endpoints).
-- BENCH_ACCOUNTS and BENCH_HOUSEHOLDS: how many were set up (acc-bench-0..., hh-bench-<account>-<n>).
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

function init(args)
  common_init()
  accounts = tonumber(os.getenv("BENCH_ACCOUNTS"))
  households = tonumber(os.getenv("BENCH_HOUSEHOLDS"))
end

function request()
  local key = unique_key()
  local account = math.random(0, accounts - 1)
  local body = string.format(
    '{"movement_id": "pay-%s", "household_id": "hh-bench-%d-%d", "amount_fen": %d, ' ..
    '"channel": "bank_transfer", "reference": "ICBC-%s"}',
    key, account, math.random(0, households - 1), math.random(1000, 50000), key)
  local path = string.format("/accounts/acc-bench-%d/payments", account)
  return wrk.format("POST", path, headers_with({ ["Idempotency-Key"] = key }), body)
end
