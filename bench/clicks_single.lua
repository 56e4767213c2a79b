-- wrk script for bench/clicks.py: one click per POST, a unique click id per request.
-- args: <click id prefix> <campaign id> <api key>
local threads = {}
local counter = 0

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

function init(args)
  prefix = args[1] .. "-" .. tid .. "-"
  head = '{"campaign_id":"' .. args[2] .. '","click_id":"'
  tail = '","referrer":"https://twitter.com/fabrknt/status/1","utm_params":{"utm_source":"twitter",'
    .. '"utm_campaign":"launch"},"user_agent":"Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0",'
    .. '"ip_address":"203.0.113.'
  headers = {["Content-Type"] = "application/json", ["X-API-Key"] = args[3]}
end

function request()
  counter = counter + 1
  local body = head .. prefix .. counter .. tail .. (counter % 250) .. '"}'
  return wrk.format("POST", nil, headers, body)
end

function done(summary, latency, requests)
  io.write(string.format(
    'RESULT {"requests":%d,"duration_us":%d,"status_errors":%d,"connect_errors":%d,'
      .. '"read_errors":%d,"write_errors":%d,"timeouts":%d,"p50_us":%d,"p90_us":%d,'
      .. '"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, summary.errors.status, summary.errors.connect,
    summary.errors.read, summary.errors.write, summary.errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
