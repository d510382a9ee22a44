-- Every read of a client's invoices walks them in number order (`invoices_by_number`), the
-- date a filter on the walk: SQLite's statements hide the date from its planner, and PostgreSQL's
-- read connections price out the sorts and bitmap scans a walk by date would need (`store`).
-- So no statement read `invoices_by_date` (PostgreSQL counted no scan of it after a seeding,
-- an advance, pages and lookups over a million invoices), while every insert and every update
-- of an invoice that PostgreSQL cannot write on its page kept an entry in it up to date (95 MB
-- of a million invoices).
DROP INDEX invoices_by_date;
