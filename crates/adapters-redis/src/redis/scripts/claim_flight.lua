-- Claims a flight unless its answer is already cached: one step, so an answer stored and a
-- claim released between a look at the cache and a claim cannot send a second call to the
-- provider.
--
-- KEYS[1]  the response-cache key
-- KEYS[2]  the claim's key
-- ARGV[1]  the holder
-- ARGV[2]  the lease, in milliseconds
--
-- Returns the cached answer (a string), 1 when the holder holds the claim now, or 0 when
-- another holder does.
local answer = redis.call('GET', KEYS[1])
if answer then
  return answer
end
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return 1
end
return 0
