-- Password grant at POST /token, cycling through prepared form bodies (one user each): bodies=FILE
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(dir .. "common.lua")
local bodies, i = {}, 0

function init(list)
  bodies = common.lines(common.args(list).bodies)
end

function request()
  i = i % #bodies + 1
  return wrk.format("POST", "/token", {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["X-Forwarded-For"] = common.xff(),
  }, bodies[i])
end

done = common.done
