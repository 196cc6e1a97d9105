-- GET one path (floor, verify) with bearer tokens taken in turn from a pool: tokens=FILE path=/…
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(dir .. "common.lua")
local tokens, path, i = {}, "/", 0

function init(list)
  local a = common.args(list)
  tokens = common.lines(a.tokens)
  path = a.path or "/"
end

function request()
  if #tokens == 0 then return wrk.format("GET", path) end
  i = i % #tokens + 1
  return wrk.format("GET", path, { Authorization = "Bearer " .. tokens[i] })
end

done = common.done
