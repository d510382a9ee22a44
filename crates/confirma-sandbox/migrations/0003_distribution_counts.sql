-- Pages of distributions in invoice-number order, and their totals, without reading every
-- invoice in the window: an index that walks a client's invoices in number order with what the
-- filters look at, and the count of distributions per client, invoice date, status and method,
-- kept up to date with every invoice written.
CREATE INDEX invoices_by_number ON invoices (client_id, number, invoice_day, distribution_status, distribution_method);

CREATE TABLE distribution_counts (
    client_id BIGINT NOT NULL,
    invoice_day BIGINT NOT NULL,
    status TEXT NOT NULL,
    method TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (client_id, invoice_day, status, method)
);

INSERT INTO distribution_counts (client_id, invoice_day, status, method, n)
SELECT client_id, invoice_day, distribution_status, distribution_method, COUNT(*)
FROM invoices WHERE distribution_status IS NOT NULL
GROUP BY client_id, invoice_day, distribution_status, distribution_method;
