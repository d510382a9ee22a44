-- Where an advance's walk of each queue of what falls due takes up: the key of the last row it
-- took. A walk reads its queue's index in key order from the first key a space has, and every
-- row an advance took (deleted from a queue, or a case moved on to its next day) left an entry
-- there that PostgreSQL keeps until a vacuum: at a million invoices a walk of 2,000 due rows
-- read 3,000 to 4,000 pages of such entries first, 7 to 10 ms, in every batch of a step until
-- autovacuum came round. From its cursor a walk reads none of them.
--
-- A cursor holds one promise: no row of its space's queue is keyed below it. A walk moves it to
-- the last key it took; a statement that adds a row below it (a due time in the past, a case's
-- day set back) moves it back to that row's key in the same statement (`tables::add_due`,
-- `tables::insert_cases`, `tables::update_case`). A space without a cursor is walked from its
-- first key. `queue`: 1 distributions (`invoices_to_distribute`), 2 overdue days
-- (`invoices_to_overdue`), 3 escalations (`cases_to_escalate`, whose key is `(due, key_a)`,
-- `key_b` 0); `key_a` and `key_b` are a queue row's client id and invoice number.
CREATE TABLE due_cursors (
    space BIGINT NOT NULL,
    queue BIGINT NOT NULL,
    due BIGINT NOT NULL,
    key_a BIGINT NOT NULL,
    key_b BIGINT NOT NULL,
    PRIMARY KEY (space, queue)
);
