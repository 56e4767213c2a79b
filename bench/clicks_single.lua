-- wrk script for bench/clicks.py: one click per POST, a unique click id per request.
-- args: <click id prefix> <campaign id> <api key> [<name of the campaign field>]
-- (the fast path's field is campaign_id; the naive project's, bench/naive, is campaign)
local threads = {}
local counter = 0

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

function init(args)
  prefix = args[1] .. "-" .. tid .. "-"
  head = '{"' .. (args[4] or "campaign_id") .. '":"' .. args[2] .. '","click_id":"'
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

-- The `done` reporter, from the file beside this one.
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "wrk_report.lua")
