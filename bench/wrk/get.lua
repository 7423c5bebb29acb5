-- A GET of the URL given on wrk's command line, with the session cookie passed as -H.
dofile("bench/wrk/report.lua")
