-- PostgreSQL's autovacuum settings for the tables an advance rewrites (see the PostgreSQL
-- migration of this version); SQLite reuses a freed page at once, and nothing changes here.
SELECT 1;
