-- wrk script for the registry benchmarks.
-- WRK_ACCEPT (optional) becomes the Accept header, e.g. the manifest media types.
-- WRK_AUTHORIZATION (optional) becomes the Authorization header, e.g.
-- "Basic <base64 user:password>" or "Bearer <token>"; it is sent on every request.
-- At the end one machine-readable line starting with "BENCH " is printed.

local accept = os.getenv("WRK_ACCEPT")
if accept ~= nil and accept ~= "" then
  wrk.headers["Accept"] = accept
end

local authorization = os.getenv("WRK_AUTHORIZATION")
if authorization ~= nil and authorization ~= "" then
  wrk.headers["Authorization"] = authorization
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d bytes=%d p50_us=%d p99_us=%d max_us=%d socket_errors=%d status_errors=%d\n",
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(99), latency.max,
    e.connect + e.read + e.write + e.timeout, e.status))
end
