-- POST /register with a new user each time: prefix=UNIQUE password=…
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(dir .. "common.lua")
local prefix, password, n = "u", "correct horse battery staple", 0

function init(list)
  local a = common.args(list)
  prefix = a.prefix or prefix
  password = a.password or password
end

function request()
  n = n + 1
  local name = prefix .. "n" .. n
  local body = string.format('{"email":"%s@example.com","username":"%s","password":"%s"}',
    name, name, password)
  return wrk.format("POST", "/register", {
    ["Content-Type"] = "application/json",
    ["X-Forwarded-For"] = common.xff(),
  }, body)
end

done = common.done
