-- The command log (one row per accepted command, in execution order) and the database's
-- settings (its generated tokens, the seed and start it was made with). Portable SQL: the same
-- text runs on SQLite and PostgreSQL. `IF NOT EXISTS` adopts files made before migrations.
CREATE TABLE IF NOT EXISTS commands (seq BIGINT PRIMARY KEY, json TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
