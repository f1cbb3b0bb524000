-- wrk script for the no-starvation scenario of `make bench`: a flood of wrong-password
-- sign-ins at the token service (the OAuth2 POST), counted by status.
--
-- Configured through the environment: FLOOD_USER (the account attacked), FLOOD_SERVICE.
-- done() prints one line, "FLOOD_RESULT {json}", with the counts by status of all threads.

local user = os.getenv("FLOOD_USER")
local service = os.getenv("FLOOD_SERVICE")
wrk.method = "POST"
wrk.path = "/auth/token"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.body = "grant_type=password&username=" .. user .. "&password=wrong-password&service="
  .. service .. "&client_id=flood&scope=repository:library/alpine:pull"

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
