-- Spaces: many isolated sandboxes in one database. Every table of the world is rebuilt with the
-- space leading its key and every index, so that a space's rows sit together and a due-time
-- query, a page or an advance reads only its own space. The rows already stored become the
-- default space, 0. Portable SQL: each table is renamed, made anew, filled from the old one
-- (which is then dropped), and its indexes made last, under their earlier names.

ALTER TABLE world RENAME TO world_v4;
CREATE TABLE world (
    space BIGINT PRIMARY KEY,
    now_us BIGINT NOT NULL,
    counter BIGINT NOT NULL,
    demo_client BIGINT,
    demo_token TEXT,
    processed_day BIGINT NOT NULL
);
INSERT INTO world (space, now_us, counter, demo_client, demo_token, processed_day)
SELECT 0, now_us, counter, demo_client, demo_token, processed_day FROM world_v4;
DROP TABLE world_v4;

ALTER TABLE clients RENAME TO clients_v4;
CREATE TABLE clients (
    space BIGINT NOT NULL,
    id BIGINT NOT NULL,
    business_id TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (space, id),
    UNIQUE (space, business_id)
);
INSERT INTO clients (space, id, business_id, body) SELECT 0, id, business_id, body FROM clients_v4;
DROP TABLE clients_v4;

-- A token's hash is unique across spaces: it alone finds the space of a request.
ALTER TABLE tokens RENAME TO tokens_v4;
CREATE TABLE tokens (
    hash TEXT PRIMARY KEY,
    space BIGINT NOT NULL,
    client_id BIGINT NOT NULL,
    expires_us BIGINT
);
INSERT INTO tokens (hash, space, client_id, expires_us) SELECT hash, 0, client_id, expires_us FROM tokens_v4;
DROP TABLE tokens_v4;

ALTER TABLE invoices RENAME TO invoices_v4;
CREATE TABLE invoices (
    space BIGINT NOT NULL,
    client_id BIGINT NOT NULL,
    number BIGINT NOT NULL,
    invoice_day BIGINT NOT NULL,
    payment_reference TEXT NOT NULL,
    distribute_us BIGINT,
    overdue_day BIGINT,
    distribution_status TEXT,
    distribution_method TEXT,
    body TEXT NOT NULL,
    PRIMARY KEY (space, client_id, number),
    UNIQUE (space, payment_reference)
);
INSERT INTO invoices (space, client_id, number, invoice_day, payment_reference, distribute_us, overdue_day,
    distribution_status, distribution_method, body)
SELECT 0, client_id, number, invoice_day, payment_reference, distribute_us, overdue_day,
    distribution_status, distribution_method, body FROM invoices_v4;
DROP TABLE invoices_v4;

ALTER TABLE failing_distributions RENAME TO failing_distributions_v4;
CREATE TABLE failing_distributions (
    space BIGINT NOT NULL,
    client_id BIGINT NOT NULL,
    number BIGINT NOT NULL,
    PRIMARY KEY (space, client_id, number)
);
INSERT INTO failing_distributions (space, client_id, number) SELECT 0, client_id, number FROM failing_distributions_v4;
DROP TABLE failing_distributions_v4;

ALTER TABLE cases RENAME TO cases_v4;
CREATE TABLE cases (
    space BIGINT NOT NULL,
    id BIGINT NOT NULL,
    client_id BIGINT NOT NULL,
    invoice_number BIGINT NOT NULL,
    escalate_day BIGINT,
    body TEXT NOT NULL,
    PRIMARY KEY (space, id)
);
INSERT INTO cases (space, id, client_id, invoice_number, escalate_day, body)
SELECT 0, id, client_id, invoice_number, escalate_day, body FROM cases_v4;
DROP TABLE cases_v4;

ALTER TABLE payments RENAME TO payments_v4;
CREATE TABLE payments (
    space BIGINT NOT NULL,
    allocation_id BIGINT NOT NULL,
    client_id BIGINT NOT NULL,
    case_id BIGINT NOT NULL,
    invoice_number BIGINT NOT NULL,
    payment_day BIGINT NOT NULL,
    unsettled BIGINT,
    body TEXT NOT NULL,
    PRIMARY KEY (space, allocation_id)
);
INSERT INTO payments (space, allocation_id, client_id, case_id, invoice_number, payment_day, unsettled, body)
SELECT 0, allocation_id, client_id, case_id, invoice_number, payment_day, unsettled, body FROM payments_v4;
DROP TABLE payments_v4;

ALTER TABLE settlements RENAME TO settlements_v4;
CREATE TABLE settlements (
    space BIGINT NOT NULL,
    id BIGINT NOT NULL,
    client_id BIGINT NOT NULL,
    settlement_day BIGINT NOT NULL,
    unfetched BIGINT,
    body TEXT NOT NULL,
    PRIMARY KEY (space, id)
);
INSERT INTO settlements (space, id, client_id, settlement_day, unfetched, body)
SELECT 0, id, client_id, settlement_day, unfetched, body FROM settlements_v4;
DROP TABLE settlements_v4;

ALTER TABLE accounting RENAME TO accounting_v4;
CREATE TABLE accounting (
    space BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    client_id BIGINT NOT NULL,
    kind TEXT NOT NULL,
    source_identifier TEXT NOT NULL,
    document_day BIGINT NOT NULL,
    sync_us BIGINT,
    body TEXT NOT NULL,
    PRIMARY KEY (space, seq),
    UNIQUE (space, client_id, kind, source_identifier)
);
INSERT INTO accounting (space, seq, client_id, kind, source_identifier, document_day, sync_us, body)
SELECT 0, seq, client_id, kind, source_identifier, document_day, sync_us, body FROM accounting_v4;
DROP TABLE accounting_v4;

ALTER TABLE distribution_counts RENAME TO distribution_counts_v4;
CREATE TABLE distribution_counts (
    space BIGINT NOT NULL,
    client_id BIGINT NOT NULL,
    invoice_day BIGINT NOT NULL,
    status TEXT NOT NULL,
    method TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (space, client_id, invoice_day, status, method)
);
INSERT INTO distribution_counts (space, client_id, invoice_day, status, method, n)
SELECT 0, client_id, invoice_day, status, method, n FROM distribution_counts_v4;
DROP TABLE distribution_counts_v4;

CREATE INDEX tokens_by_client ON tokens (space, client_id);
CREATE INDEX invoices_by_date ON invoices (space, client_id, invoice_day, number);
CREATE INDEX invoices_by_number ON invoices (space, client_id, number, invoice_day, distribution_status, distribution_method);
CREATE INDEX invoices_to_distribute ON invoices (space, distribute_us, client_id, number) WHERE distribute_us IS NOT NULL;
CREATE INDEX invoices_to_overdue ON invoices (space, overdue_day, client_id, number) WHERE overdue_day IS NOT NULL;
CREATE INDEX cases_to_escalate ON cases (space, escalate_day, id) WHERE escalate_day IS NOT NULL;
CREATE INDEX payments_by_date ON payments (space, client_id, payment_day);
CREATE INDEX payments_by_case ON payments (space, case_id);
CREATE INDEX payments_unsettled ON payments (space, client_id, allocation_id) WHERE unsettled IS NOT NULL;
CREATE INDEX settlements_by_date ON settlements (space, client_id, settlement_day, id);
CREATE INDEX settlements_unfetched ON settlements (space, client_id, id) WHERE unfetched IS NOT NULL;
CREATE INDEX settlements_of_day ON settlements (space, settlement_day);
CREATE INDEX accounting_by_date ON accounting (space, client_id, kind, document_day, seq);
CREATE INDEX accounting_to_sync ON accounting (space, sync_us, seq) WHERE sync_us IS NOT NULL;

-- The spaces made through `/sandbox/spaces` (the default space, 0, is the sandbox's own and has
-- no row): what a space was made with, the hashes of its two tokens, and when it expires unless
-- it is used (wall-clock microseconds). Seeds are stored as their 64 bits, signed.
CREATE TABLE spaces (
    space BIGINT PRIMARY KEY,
    name TEXT NOT NULL,
    provisioning_hash TEXT NOT NULL UNIQUE,
    admin_hash TEXT NOT NULL UNIQUE,
    seed BIGINT NOT NULL,
    start_us BIGINT NOT NULL,
    salt TEXT NOT NULL,
    demo BIGINT NOT NULL,
    created_us BIGINT NOT NULL,
    idle_expiry_s BIGINT NOT NULL,
    expires_us BIGINT NOT NULL
);
CREATE INDEX spaces_by_expiry ON spaces (expires_us, space);

-- Spaces deleted whose rows are still being removed, in bounded batches.
CREATE TABLE doomed_spaces (space BIGINT PRIMARY KEY);
