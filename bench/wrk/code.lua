-- Code exchange (authorization_code grant with PKCE) at POST /token. Codes are single use: every
-- request takes the next form body of the pool made just before the run, newest first. codes=FILE
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(dir .. "common.lua")
local pool = {}

function init(list)
  pool = common.lines(common.args(list).codes)
end

function request()
  -- An exhausted pool sends a spent code, so that running out shows as errors, never as speed.
  local body = table.remove(pool) or "grant_type=authorization_code&code=spent"
  return wrk.format("POST", "/token", {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["X-Forwarded-For"] = common.xff(),
  }, body)
end

done = common.done
