-- A blend of one server's day, per 200 requests: 175 GET /users/me (tokens in turn), 20 refreshes
-- with rotation, 4 password logins and 1 registration, interleaved in a fixed shuffled order.
-- tokens=FILE refresh=FILE bodies=FILE prefix=UNIQUE
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(dir .. "common.lua")
local tokens, pool, bodies, prefix = {}, {}, {}, "m"
local plan, step, ti, bi, n = {}, 0, 0, 0, 0
local form = "application/x-www-form-urlencoded"

function init(list)
  local a = common.args(list)
  tokens = common.lines(a.tokens)
  pool = common.lines(a.refresh)
  bodies = common.lines(a.bodies)
  prefix = a.prefix or prefix
  for _ = 1, 175 do plan[#plan + 1] = "verify" end
  for _ = 1, 20 do plan[#plan + 1] = "refresh" end
  for _ = 1, 4 do plan[#plan + 1] = "login" end
  plan[#plan + 1] = "register"
  math.randomseed(42)
  for k = #plan, 2, -1 do
    local j = math.random(k)
    plan[k], plan[j] = plan[j], plan[k]
  end
end

function request()
  step = step % #plan + 1
  local kind = plan[step]
  if kind == "refresh" and #pool > 0 then
    return wrk.format("POST", "/token", { ["Content-Type"] = form, ["X-Forwarded-For"] = common.xff() },
      "grant_type=refresh_token&refresh_token=" .. table.remove(pool))
  elseif kind == "login" then
    bi = bi % #bodies + 1
    return wrk.format("POST", "/token", { ["Content-Type"] = form, ["X-Forwarded-For"] = common.xff() },
      bodies[bi])
  elseif kind == "register" then
    n = n + 1
    local name = prefix .. "n" .. n
    return wrk.format("POST", "/register", { ["Content-Type"] = "application/json",
      ["X-Forwarded-For"] = common.xff() },
      string.format('{"email":"%s@example.com","username":"%s","password":"correct horse battery staple"}',
        name, name))
  end
  ti = ti % #tokens + 1
  return wrk.format("GET", "/users/me", { Authorization = "Bearer " .. tokens[ti] })
end

function response(status, headers, body)
  local successor = string.match(body or "", '"refresh_token":"([^"]+)"')
  if successor then pool[#pool + 1] = successor end
end

done = common.done
