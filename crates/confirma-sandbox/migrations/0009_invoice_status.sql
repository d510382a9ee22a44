-- An invoice's status beside its document: when set, it is the invoice's status, whatever the
-- document says. An advance marks the invoices that fall due overdue with one statement a step
-- (this column, the due day and the stored distribution record), without rewriting their
-- documents. Rows stored before have none: their document's status is theirs.
ALTER TABLE invoices ADD COLUMN invoice_status TEXT;
