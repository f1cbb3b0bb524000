-- wrk script for `make bench`: sends one configured request and checks every answer.
--
-- Configured through the environment (bench/scenarios.py sets it from a Scenario):
--   BENCH_METHOD, BENCH_PATH, BENCH_BODY     the request (GET, /, no body)
--   BENCH_HEADERS                            "Name: value" lines, separated by newlines
--   BENCH_EXPECT_STATUS                      the only acceptable status (200)
--   BENCH_EXPECT_BODY                        if set, the exact body every answer must have
--   BENCH_EXPECT_REPOSITORY, BENCH_EXPECT_ACTION, BENCH_EXPECT_SUBJECT
--       if set, the body is the token service's JSON and the payload of its "token" JWT must
--       name the subject and hold an "access" entry for the repository with the action
--   BENCH_CHECK_EVERY                        decode the JWT of every Nth good answer (1)
--
-- done() prints one line, "WRK_RESULT {json}", with the counters of all threads and the
-- latency percentiles (µs); bench/wrk.py reads it.

local function env(name, default)
  local value = os.getenv(name)
  if value == nil or value == "" then
    return default
  end
  return value
end

wrk.method = env("BENCH_METHOD", "GET")
wrk.path = env("BENCH_PATH", "/")
wrk.body = os.getenv("BENCH_BODY")
for line in env("BENCH_HEADERS", ""):gmatch("[^\n]+") do
  local name, value = line:match("^([^:]+):%s*(.*)$")
  if name then
    wrk.headers[name] = value
  end
end

local expect_status = tonumber(env("BENCH_EXPECT_STATUS", "200"))
local expect_body = os.getenv("BENCH_EXPECT_BODY")
local expect_repository = os.getenv("BENCH_EXPECT_REPOSITORY")
local expect_action = os.getenv("BENCH_EXPECT_ACTION")
local expect_subject = os.getenv("BENCH_EXPECT_SUBJECT")
local check_every = tonumber(env("BENCH_CHECK_EVERY", "1"))

-- Per-thread counters (each wrk thread runs its own copy of this script).
answers, good, bad_status, bad_body, tokens_checked, bad_token, sample = 0, 0, 0, 0, 0, 0, ""

local ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
local SEXTET = {}
for i = 1, #ALPHABET do
  SEXTET[ALPHABET:byte(i)] = i - 1
end

-- base64url without padding (RFC 7515); nil if the text is not base64url.
local function base64url_decode(text)
  if #text % 4 == 1 then
    return nil
  end
  local out = {}
  for i = 1, #text, 4 do
    local a, b, c, d = text:byte(i, i + 3)
    local va, vb = SEXTET[a], SEXTET[b]
    local vc, vd = SEXTET[c or 61], SEXTET[d or 61] -- 61 is "=", never in the alphabet
    if va == nil or vb == nil or (c and vc == nil) or (d and vd == nil) then
      return nil
    end
    local n = va * 262144 + vb * 4096 + (vc or 0) * 64 + (vd or 0)
    local b1, b2, b3 = math.floor(n / 65536), math.floor(n / 256) % 256, n % 256
    if d then
      out[#out + 1] = string.char(b1, b2, b3)
    elseif c then
      out[#out + 1] = string.char(b1, b2)
    else
      out[#out + 1] = string.char(b1)
    end
  end
  return table.concat(out)
end

local function literal(text) -- a Lua pattern matching text as is
  return (text:gsub("%p", "%%%0"))
end

-- Why the token service's answer does not grant the expected access; nil when it does.
-- A string match on the decoded payload, scoped to the entries of its "access" array: an
-- empty array, another repository or another action fails.
local function token_problem(body)
  local jwt = body:match('"token"%s*:%s*"([^"]*)"')
  if jwt == nil then
    return "no token in the body"
  end
  local encoded = jwt:match("^[%w_-]+%.([%w_-]+)%.[%w_-]+$")
  local payload = encoded and base64url_decode(encoded)
  if payload == nil then
    return "the token is not a JWT"
  end
  if expect_subject then
    local subject = payload:match('"sub"%s*:%s*"([^"]*)"')
    if subject ~= expect_subject then
      return "the token's subject is " .. tostring(subject) .. ", not " .. expect_subject
    end
  end
  local access = payload:match('"access"%s*:%s*(%b[])')
  if access == nil then
    return "the token has no access claim"
  end
  local name = '"name"%s*:%s*"' .. literal(expect_repository) .. '"'
  local action = '"' .. literal(expect_action) .. '"'
  for entry in access:gmatch("%b{}") do
    local actions = entry:match('"actions"%s*:%s*(%b[])')
    if entry:find('"type"%s*:%s*"repository"') and entry:find(name)
        and actions and actions:find(action) then
      return nil
    end
  end
  return "the token does not grant " .. expect_action .. " on " .. expect_repository
    .. ": access=" .. access
end

local function fail(why)
  if sample == "" then
    sample = why:sub(1, 300)
  end
end

function response(status, headers, body)
  answers = answers + 1
  if status ~= expect_status then
    bad_status = bad_status + 1
    fail("status " .. status .. ": " .. (body or ""):sub(1, 200))
    return
  end
  if expect_body and body ~= expect_body then
    bad_body = bad_body + 1
    fail("unexpected body: " .. (body or ""):sub(1, 200))
    return
  end
  good = good + 1
  if expect_repository and (good - 1) % check_every == 0 then
    tokens_checked = tokens_checked + 1
    local problem = token_problem(body or "")
    if problem then
      bad_token = bad_token + 1
      fail(problem)
    end
  end
end

local threads = {}

function setup(thread)
  threads[#threads + 1] = thread
end

local function json_string(text)
  return '"' .. text:gsub('[%c"\\]', function(c)
    return string.format("\\u%04x", c:byte())
  end) .. '"'
end

function done(summary, latency, requests)
  local totals = { answers = 0, good = 0, bad_status = 0, bad_body = 0, tokens_checked = 0,
                   bad_token = 0 }
  local first_failure = ""
  for _, thread in ipairs(threads) do
    for key in pairs(totals) do
      totals[key] = totals[key] + thread:get(key)
    end
    if first_failure == "" then
      first_failure = thread:get("sample")
    end
  end
  local fields = {}
  for key, value in pairs(totals) do
    fields[#fields + 1] = string.format('"%s": %d', key, value)
  end
  local errors = summary.errors
  fields[#fields + 1] = string.format(
    '"requests": %d, "duration_us": %d, "connect_errors": %d, "read_errors": %d, '
      .. '"write_errors": %d, "timeouts": %d, "check_every": %d',
    summary.requests, summary.duration, errors.connect, errors.read, errors.write,
    errors.timeout, check_every)
  fields[#fields + 1] = string.format(
    '"latency_us": {"p50": %d, "p90": %d, "p99": %d, "max": %d, "mean": %.1f}',
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    latency.mean)
  fields[#fields + 1] = '"first_failure": ' .. json_string(first_failure)
  io.write("WRK_RESULT {" .. table.concat(fields, ", ") .. "}\n")
end
