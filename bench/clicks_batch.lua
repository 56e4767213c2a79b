-- wrk script for bench/clicks.py: POST /api/v1/clicks/batch with <size> clicks a request.
-- args: <click id prefix> <campaign id> <api key> <size>
local threads = {}
local counter = 0

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

function init(args)
  prefix = args[1] .. "-" .. tid .. "-"
  size = tonumber(args[4])
  head = '{"campaign_id":"' .. args[2] .. '","click_id":"'
  tail = '","referrer":"https://twitter.com/","utm_params":{"utm_source":"edge"},'
    .. '"user_agent":"Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0","ip_address":"198.51.100.'
  headers = {["Content-Type"] = "application/json", ["X-API-Key"] = args[3]}
end

function request()
  counter = counter + 1
  local items = {}
  for i = 1, size do
    items[i] = head .. prefix .. counter .. "-" .. i .. tail .. (i % 250) .. '"}'
  end
  return wrk.format("POST", nil, headers, '{"clicks":[' .. table.concat(items, ",") .. "]}")
end

-- The `done` reporter, from the file beside this one.
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "wrk_report.lua")
