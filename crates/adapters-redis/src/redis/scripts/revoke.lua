-- Records a revocation without ever shortening one.
--
-- KEYS[1]  the session's key
-- ARGV[1]  end of the revocation, Unix time in milliseconds
--
-- The value is the end; the key expires then (PEXPIREAT). An existing later end is kept.
-- Returns 1 when recorded, 0 when an existing revocation already lasts as long.
local until_ms = tonumber(ARGV[1])
local current = redis.call('GET', KEYS[1])
if current and tonumber(current) and tonumber(current) >= until_ms then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('PEXPIREAT', KEYS[1], until_ms)
return 1
