-- A light, paced GET (each connection waits delay=MS between requests): the latency probe whose p99
-- is compared idle and during a login storm. tokens=FILE path=/… delay=MS
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(dir .. "common.lua")
local tokens, path, pause, i = {}, "/", 5, 0

function init(list)
  local a = common.args(list)
  tokens = common.lines(a.tokens)
  path = a.path or "/"
  pause = tonumber(a.delay or "5")
end

function delay()
  return pause
end

function request()
  if #tokens == 0 then return wrk.format("GET", path) end
  i = i % #tokens + 1
  return wrk.format("GET", path, { Authorization = "Bearer " .. tokens[i] })
end

done = common.done
