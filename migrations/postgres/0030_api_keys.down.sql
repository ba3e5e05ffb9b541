-- Reverts 0030_api_keys.up.sql (the keys' sessions stay, revoked or not).

DROP TABLE api_keys;
