-- Releases a flight claim only if its holder still holds it.
--
-- KEYS[1]  the claim's key
-- ARGV[1]  the holder
--
-- A claim whose lease expired may have been taken by another holder; that one is kept.
-- Returns 1 when released, 0 otherwise.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
