-- What falls due, in tables of their own instead of partial indexes of `invoices`. An advance
-- updates every invoice when its distribution completes and again when it falls overdue, and
-- each update cleared a due time, which took the row out of that time's partial index. An
-- update that changes an indexed column is written with a new entry in every index of the
-- table (at 150,000 invoices, 13 to 17 us a row against 3.4 for one that changes none), and
-- the WAL of those entries is what the creates during an advance waited behind. With the due
-- times indexed by tables of their own, and the distribution's status and method out of
-- `invoices_by_number` (a page reads its rows off the table, where it filters them), no update
-- an advance makes to an invoice changes an indexed column: each is written on its row's page
-- (`0012_room_to_update.postgres.sql`) with no index entry. Alternating at 400,000 invoices, with
-- a create every 100 ms, an 18-day advance took 36.4-39.8 s instead of 39.6-59.5, and left a
-- database of 888-904 MiB instead of 938-1,017.
--
-- A row is added when an invoice is stored with a due time (`tables::put_invoices`) and
-- removed when an advance reaches it; the invoice's own column stays what it is due by, and a
-- row whose invoice no longer has that time is passed over (a whole write that changed it
-- added the new time's row).
DROP INDEX invoices_to_distribute;
DROP INDEX invoices_to_overdue;
CREATE TABLE invoices_to_distribute (
    space BIGINT NOT NULL,
    distribute_us BIGINT NOT NULL,
    client_id BIGINT NOT NULL,
    number BIGINT NOT NULL,
    PRIMARY KEY (space, distribute_us, client_id, number)
);
CREATE TABLE invoices_to_overdue (
    space BIGINT NOT NULL,
    overdue_day BIGINT NOT NULL,
    client_id BIGINT NOT NULL,
    number BIGINT NOT NULL,
    PRIMARY KEY (space, overdue_day, client_id, number)
);
INSERT INTO invoices_to_distribute (space, distribute_us, client_id, number)
SELECT space, distribute_us, client_id, number FROM invoices WHERE distribute_us IS NOT NULL;
INSERT INTO invoices_to_overdue (space, overdue_day, client_id, number)
SELECT space, overdue_day, client_id, number FROM invoices WHERE overdue_day IS NOT NULL;
DROP INDEX invoices_by_number;
CREATE INDEX invoices_by_number ON invoices (space, client_id, number, invoice_day);
-- Rows are added and removed as fast as invoices are: vacuumed as soon as `invoices`
-- (`0011_vacuum_sooner.postgres.sql`).
ALTER TABLE invoices_to_distribute SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_vacuum_insert_scale_factor = 0.02, autovacuum_vacuum_cost_delay = 0);
ALTER TABLE invoices_to_overdue SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_vacuum_insert_scale_factor = 0.02, autovacuum_vacuum_cost_delay = 0);
