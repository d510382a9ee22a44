-- PostgreSQL's fill factor for the cases an advance updates (see the PostgreSQL migration of this
-- version); SQLite rewrites a changed row in its page or moves it, and nothing changes here.
SELECT 1;
