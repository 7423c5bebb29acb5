-- POSTs that each go to a different target: BENCH_POST_FILE holds one request per line,
-- "path<TAB>cookie header<TAB>urlencoded body" (the body carries csrfmiddlewaretoken, the cookie
-- the matching csrftoken and the signed-in session). Each line is sent once, in order; if the
-- run outlasts the file the list starts again (those requests are refused: counted as bad_status).
dofile("bench/wrk/report.lua")

local lines = {}
for line in io.lines(os.getenv("BENCH_POST_FILE")) do
  local path, cookie, body = line:match("^([^\t]*)\t([^\t]*)\t(.*)$")
  if path then
    lines[#lines + 1] = { path = path, cookie = cookie, body = body }
  end
end
local index = 0

request = function()
  index = index % #lines + 1
  local item = lines[index]
  return wrk.format("POST", item.path, {
    ["Cookie"] = item.cookie,
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }, item.body)
end

