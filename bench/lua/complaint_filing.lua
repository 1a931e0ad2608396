-- POST /complaints: a new complaint per request (the README's example), its reporter sealed with a key of their own.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

local body = [[{"category_code": "electricity", "channel": "phone", "priority": "urgent",
 "compound_id": "jinyuan-huating", "building": "3栋", "unit": "2单元",
 "description": "小区停电，物业拖欠电费", "answers": {"issue": "arrears", "households_affected": 320},
 "reporter": {"name": "李四", "phone": "13900001111"}}]]

function init(args)
  common_init()
end

function request()
  return wrk.format("POST", "/complaints", headers_with({ ["Idempotency-Key"] = unique_key() }), body)
end
