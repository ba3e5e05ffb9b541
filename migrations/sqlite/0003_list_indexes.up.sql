-- Indexes for the paginated lists.

-- An instructor sees the published activities plus their own unpublished ones: the list's
-- total counts the second part here, and a status filter other than published lists from it,
-- newest first. `status` is in the key, although the predicate already fixes it to "not
-- published", so that SQLite can count and filter by status from the index alone.
CREATE INDEX activities_unpublished_idx ON activities (owner_id, created_at DESC, id DESC, status)
    WHERE status <> 'published';
