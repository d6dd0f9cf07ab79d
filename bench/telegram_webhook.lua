-- wrk script for bench/telegram_webhook.py: replay Telegram Update JSON to the webhook.
-- (A copy of bench/sms_intake.lua with the request format changed.)
--
--   wrk -t2 -c32 -d10s --latency -s bench/telegram_webhook.lua http://127.0.0.1:P -- POOL_FILE NTHREADS
--
-- POOL_FILE has one request per line: "<X-Telegram-Bot-Api-Secret-Token>\t<Update JSON>".
-- Each thread keeps its own contiguous slice of the pool (thread k of n takes lines
-- k*N/n+1 .. (k+1)*N/n) and walks it once, so no two threads send the same request
-- and no request is sent twice unless a slice runs out; then it wraps and counts the
-- wrap, and done() reports it ("wrapped" > 0 means some requests were replayed).
-- done() prints one line "WRK_JSON {...}" with the numbers the harness reads.

local PATH = "/webhooks/telegram"

local threads = {}
local next_id = 0

function setup(thread)
   thread:set("tid", next_id)
   next_id = next_id + 1
   table.insert(threads, thread)
end

-- Per-thread state (each thread has its own Lua state; tid was set by setup()).
local reqs = {}
local count = 0
local pos = 0
sent = 0
wraps = 0
non2xx = 0
responses = 0

function init(args)
   local path, nthreads = args[1], tonumber(args[2] or "1")
   if path == nil then
      error("usage: -- POOL_FILE NTHREADS")
   end
   local total = 0
   local fh = assert(io.open(path, "r"))
   for _ in fh:lines() do
      total = total + 1
   end
   fh:close()
   local first = math.floor(tid * total / nthreads) + 1
   local last = math.floor((tid + 1) * total / nthreads)
   local i = 0
   fh = assert(io.open(path, "r"))
   for line in fh:lines() do
      i = i + 1
      if i >= first and i <= last then
         local tab = line:find("\t", 1, true)
         local secret, body = line:sub(1, tab - 1), line:sub(tab + 1)
         count = count + 1
         reqs[count] = wrk.format("POST", PATH, {
            ["Content-Type"] = "application/json",
            ["X-Telegram-Bot-Api-Secret-Token"] = secret,
         }, body)
      end
   end
   fh:close()
   if count == 0 then
      error("empty request pool slice for thread " .. tid)
   end
end

function request()
   pos = pos + 1
   if pos > count then
      pos = 1
      wraps = wraps + 1
   end
   sent = sent + 1
   return reqs[pos]
end

function response(status, headers, body)
   responses = responses + 1
   if status < 200 or status > 299 then
      non2xx = non2xx + 1
   end
end

function done(summary, latency, requests)
   local sent_total, wraps_total, non2xx_total, responses_total, slice_min = 0, 0, 0, 0, nil
   for _, t in ipairs(threads) do
      sent_total = sent_total + (t:get("sent") or 0)
      wraps_total = wraps_total + (t:get("wraps") or 0)
      non2xx_total = non2xx_total + (t:get("non2xx") or 0)
      responses_total = responses_total + (t:get("responses") or 0)
   end
   local e = summary.errors
   io.write(string.format(
      'WRK_JSON {"requests": %d, "duration_us": %d, "bytes": %d, "p50_us": %d, "p90_us": %d, '
         .. '"p99_us": %d, "max_us": %d, "mean_us": %.1f, "errors": {"connect": %d, "read": %d, '
         .. '"write": %d, "status": %d, "timeout": %d}, "non2xx": %d, "responses": %d, "sent": %d, '
         .. '"wrapped": %d, "threads": %d}\n',
      summary.requests, summary.duration, summary.bytes,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
      e.connect, e.read, e.write, e.status, e.timeout,
      non2xx_total, responses_total, sent_total, wraps_total, #threads))
end
