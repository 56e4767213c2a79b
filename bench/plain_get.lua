-- wrk script for bench/clicks.py: plain GETs (the platform floor, e.g. /healthz).

-- The `done` reporter, from the file beside this one.
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "wrk_report.lua")
