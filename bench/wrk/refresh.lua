-- Refresh grant with rotation at POST /token. Every refresh token is used once: each connection's
-- answer carries the successor, which goes back into the pool for a later request. refresh=FILE
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(dir .. "common.lua")
local pool = {}

function init(list)
  pool = common.lines(common.args(list).refresh)
end

function request()
  -- An empty pool means refreshes failed: send a dead token so the failure shows as errors.
  local token = table.remove(pool) or "spent"
  return wrk.format("POST", "/token", {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["X-Forwarded-For"] = common.xff(),
  }, "grant_type=refresh_token&refresh_token=" .. token)
end

function response(status, headers, body)
  local successor = string.match(body or "", '"refresh_token":"([^"]+)"')
  if successor then pool[#pool + 1] = successor end
end

done = common.done
