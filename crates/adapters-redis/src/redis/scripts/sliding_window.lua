-- Sliding-window rate limit check, atomic in one round trip.
--
-- KEYS[1]  sorted set of the counted requests (member: unique id, score: server time in µs)
-- ARGV[1]  limit (> 0)
-- ARGV[2]  window in milliseconds (> 0)
-- ARGV[3]  "1" to count the request when allowed, "0" to only look
-- ARGV[4]  a member unique to this request
--
-- Returns {allowed (1 or 0), remaining, reset_secs}. Time is the Redis server's (TIME), so
-- instances with skewed clocks agree. A request made at t counts while now - t < window.
local key = KEYS[1]
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

redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local used = redis.call('ZCARD', key)
if used > limit then
  -- The limit shrank: only the newest `limit` requests can matter.
  redis.call('ZREMRANGEBYRANK', key, 0, used - limit - 1)
  used = limit
end

local allowed = used < limit
if allowed and ARGV[3] == '1' then
  redis.call('ZADD', key, now, ARGV[4])
  used = used + 1
  if redis.call('PTTL', key) < window_ms + 1000 then
    redis.call('PEXPIRE', key, window_ms + 1000)
  end
end

local reset = 0
if used >= limit then
  local blocking = redis.call('ZRANGE', key, used - limit, used - limit, 'WITHSCORES')
  reset = math.ceil((tonumber(blocking[2]) + window - now) / 1000000)
  if reset < 1 then
    reset = 1
  end
end

local flag = 0
if allowed then
  flag = 1
end
return {flag, limit - used, reset}
