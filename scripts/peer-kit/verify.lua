-- wrk script for scripts/peer: POST a TOTP code for a fresh (user, step).
-- Settings from the environment (wrk hands script arguments to threads only):
--   PEER_MODE   mfa (session cookie, POST /mfa/verify) or django (user in body)
--   PEER_KIND   right, wrong or noop (noop: the right-code request sent to /noop)
--   PEER_CODES  the codes file (see peer_server.rs / seed.py)
--   PEER_POOL   how many users from the top of the file wrk may use
--   PEER_OFFSET a file holding the next user index; done() advances it by the
--               number of requests sent, so the next run starts on fresh users
--   PEER_THREADS wrk's -t
-- Thread t of n takes every n-th user from the pointer on, so a thread that
-- sends more than pool / n requests comes back to users it already used in
-- this run (for right codes: a replayed step, or a session whose id an
-- accepted code cycled); such requests are counted as "reused".
local mode = os.getenv("PEER_MODE") or "mfa"
local kind = os.getenv("PEER_KIND") or "right"
local pool = tonumber(os.getenv("PEER_POOL") or "0")
local threads_n = tonumber(os.getenv("PEER_THREADS") or "1")
local offset_file = os.getenv("PEER_OFFSET")

local function read_offset()
  local f = offset_file and io.open(offset_file, "r")
  if not f then return 0 end
  local n = tonumber(f:read("*l") or "0") or 0
  f:close()
  return n
end

local threads = {}
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local users, cookies, codes, first, steps = {}, {}, {}, 0, 0
local start, k = 0, 0
c200, c401, c429, cother, reused = 0, 0, 0, 0, 0

function init(args)
  local f = assert(io.open(os.getenv("PEER_CODES"), "r"))
  local head = f:read("*l")
  first, steps = head:match("(%d+) (%d+)")
  first, steps = tonumber(first), tonumber(steps)
  for line in f:lines() do
    local fields = {}
    for w in line:gmatch("%S+") do fields[#fields + 1] = w end
    users[#users + 1] = fields[1]
    cookies[#cookies + 1] = fields[2]
    local c = {}
    for i = 3, #fields do c[#c + 1] = fields[i] end
    codes[#codes + 1] = c
    if pool > 0 and #users >= pool then break end
  end
  f:close()
  pool = #users
  start = read_offset() + tid
end

local function code_for(i)
  local c = codes[i]
  local j = math.floor(os.time() / 30) - first + 1
  if j < 1 then j = 1 end
  if j > steps then j = steps end
  local right = c[j]
  if kind ~= "wrong" then return right end
  -- a code that is none of the window's steps
  for _, w in ipairs({"000000", "000001", "000002"}) do
    if w ~= c[j] and w ~= c[j - 1] and w ~= c[j + 1] then return w end
  end
end

function request()
  local i = (start + k * threads_n) % pool + 1
  if k * threads_n >= pool then reused = reused + 1 end
  k = k + 1
  local body, path
  local headers = {["Content-Type"] = "application/json", ["Sec-Fetch-Site"] = "same-origin"}
  local code = code_for(i)
  if mode == "mfa" then
    body = '{"method":"totp","code":"' .. code .. '"}'
    headers["Cookie"] = "id=" .. cookies[i]
    path = "/mfa/verify"
  else
    body = '{"method":"totp","code":"' .. code .. '","user":"' .. users[i] .. '"}'
    path = "/verify"
  end
  if kind == "noop" then path = "/noop" end
  return wrk.format("POST", path, headers, body)
end

function response(status, headers, body)
  if status == 200 then c200 = c200 + 1
  elseif status == 401 then c401 = c401 + 1
  elseif status == 429 then c429 = c429 + 1
  else cother = cother + 1 end
end

function done(summary, latency, requests)
  local s = {c200 = 0, c401 = 0, c429 = 0, cother = 0, reused = 0}
  for _, t in ipairs(threads) do
    for name, _ in pairs(s) do s[name] = s[name] + (t:get(name) or 0) end
  end
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout
  io.write(string.format(
    "RESULT requests=%d seconds=%.3f p50_ms=%.2f p99_ms=%.2f s200=%d s401=%d s429=%d other=%d errors=%d reused=%d\n",
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, s.c200, s.c401, s.c429, s.cother, errors, s.reused))
  if offset_file then
    local n = read_offset() + summary.requests + counter
    local f = io.open(offset_file, "w")
    f:write(string.format("%d\n", n))
    f:close()
  end
end
