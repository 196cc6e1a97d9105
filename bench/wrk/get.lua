-- GET one path (floor, verify) with bearer tokens taken in turn from a pool: tokens=FILE path=/…
-- Requests are formatted once in init(): request() only hands the next one out, so the generator
-- spends its core on the sockets (about 12 µs a request here) rather than on Lua string building.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(dir .. "common.lua")
local requests, i = {}, 0

function init(list)
  local a = common.args(list)
  local path = a.path or "/"
  for _, token in ipairs(common.lines(a.tokens)) do
    requests[#requests + 1] = wrk.format("GET", path, { Authorization = "Bearer " .. token })
  end
  if #requests == 0 then requests[1] = wrk.format("GET", path) end
end

function request()
  i = i % #requests + 1
  return requests[i]
end

done = common.done
