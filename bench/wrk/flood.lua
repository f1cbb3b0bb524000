-- wrk script for the no-starvation scenario of `make bench`: a flood of wrong-password
-- sign-ins at the token service (the OAuth2 POST), counted by status.
--
-- Configured through the environment: FLOOD_USER (the account attacked), FLOOD_SERVICE, and
-- FLOOD_ROTATE=1 for a new made-up username on every request (nx<random>), as a flood across
-- accounts does. FLOOD_DELAY_MS: each connection waits this long between its requests (0: none),
-- which sets the flood's rate.
-- done() prints one line, "FLOOD_RESULT {json}", with the counts by status of all threads.

local user = os.getenv("FLOOD_USER")
local service = os.getenv("FLOOD_SERVICE")
wrk.method = "POST"
wrk.path = "/auth/token"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
local rotate = os.getenv("FLOOD_ROTATE") == "1"
local function body_for(name)
  return "grant_type=password&username=" .. name .. "&password=wrong-password&service="
    .. service .. "&client_id=flood&scope=repository:library/alpine:pull"
end
wrk.body = body_for(user)

function request()
  if rotate then
    return wrk.format(nil, nil, nil, body_for(string.format("nx%08x", math.random(0, 0x7fffffff))))
  end
  return wrk.format()
end

local delay_ms = tonumber(os.getenv("FLOOD_DELAY_MS") or "0")
if delay_ms > 0 then
  function delay()
    return delay_ms
  end
end

statuses = {}
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      total[status] = (total[status] or 0) + count
    end
  end
  local parts = {}
  for status, count in pairs(total) do
    table.insert(parts, string.format('"%d": %d', status, count))
  end
  io.write(string.format('FLOOD_RESULT {"statuses": {%s}, "seconds": %.3f}\n',
    table.concat(parts, ", "), summary.duration / 1e6))
end
