-- PostgreSQL's cursors of its queues of what falls due (see the PostgreSQL migration of this
-- version). SQLite removes an index entry in place when its row leaves a partial index of due
-- times: a walk from the first key reads no entries of rows already taken, and nothing changes
-- here.
SELECT 1;
