-- Lands a flight: stores its answer in the response cache, then releases the claim if its
-- holder still holds it (a claim whose lease expired may belong to another holder by now).
--
-- KEYS[1]  the response-cache key
-- KEYS[2]  the claim's key
-- ARGV[1]  the holder
-- ARGV[2]  the answer ('' with ARGV[3] = -1: nothing to store)
-- ARGV[3]  the answer's time to live in milliseconds; 0 leaves nothing cached under the key,
--          -1 leaves the cache alone
--
-- Returns 1 when the claim was released, 0 otherwise.
local ttl = tonumber(ARGV[3])
if ttl > 0 then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ttl)
elseif ttl == 0 then
  redis.call('DEL', KEYS[1])
end
if redis.call('GET', KEYS[2]) == ARGV[1] then
  return redis.call('DEL', KEYS[2])
end
return 0
