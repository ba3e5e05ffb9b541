-- Reverts 0003_list_indexes.up.sql.

DROP INDEX IF EXISTS activities_unpublished_idx;
