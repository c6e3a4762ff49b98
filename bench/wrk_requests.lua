-- Cycles through pre-built raw HTTP requests, one file per wrk thread (<prefix>.<n>),
-- records separated by a NUL byte. Past the end it starts again (repeats are counted).
local counter = 0
local threads = {}

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

function init(args)
  local f = assert(io.open(args[1] .. "." .. id, "rb"))
  local data = f:read("*a")
  f:close()
  reqs = {}
  local start = 1
  while true do
    local stop = string.find(data, "\0", start, true)
    if not stop then break end
    table.insert(reqs, string.sub(data, start, stop - 1))
    start = stop + 1
  end
  i = 0
  sent = 0
  n = #reqs
end

function request()
  i = i + 1
  if i > #reqs then i = 1 end
  sent = sent + 1
  return reqs[i]
end

function done(summary, latency, requests)
  for _, thread in ipairs(threads) do
    io.write(string.format("thread-sent %d %d\n", thread:get("sent"), thread:get("n")))
  end
  io.write(string.format("latency-p50-us %d\n", latency:percentile(50)))
  io.write(string.format("latency-p99-us %d\n", latency:percentile(99)))
end
