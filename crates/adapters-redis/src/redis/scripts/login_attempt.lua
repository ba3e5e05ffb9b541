-- Failed-login throttle attempt over several keys, atomic in one round trip.
--
-- KEYS     distinct sorted sets of attempts (member: unique id, score: server time in µs)
-- ARGV[1]  limit (> 0)
-- ARGV[2]  window in milliseconds (> 0)
-- ARGV[3]  a member unique to this attempt
-- ARGV[4]  "check" to only check: nothing is counted (optional)
--
-- Returns 0 when the attempt was counted on every key, otherwise the seconds (rounded up,
-- at least 1) until the slowest blocking key frees a slot; a refused attempt counts nowhere.
local limit = tonumber(ARGV[1])
local window_ms = tonumber(ARGV[2])
local window = window_ms * 1000
-- Redis < 5 replicates scripts verbatim unless told to replicate their effects (needed
-- for TIME before a write); later versions always do, and this is a no-op there.
if redis.replicate_commands then
  redis.replicate_commands()
end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])

local retry = 0
for _, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  local used = redis.call('ZCARD', key)
  if used >= limit then
    local blocking = redis.call('ZRANGE', key, used - limit, used - limit, 'WITHSCORES')
    local wait = math.ceil((tonumber(blocking[2]) + window - now) / 1000000)
    if wait < 1 then
      wait = 1
    end
    if wait > retry then
      retry = wait
    end
  end
end
if retry > 0 or ARGV[4] == 'check' then
  return retry
end

for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, ARGV[3])
  if redis.call('PTTL', key) < window_ms + 1000 then
    redis.call('PEXPIRE', key, window_ms + 1000)
  end
end
return 0
