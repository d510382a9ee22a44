-- The sandbox's state in tables, one per aggregate, each with the indexes of the queries the
-- API and the clock make (see src/world/queries.rs and src/store/tables.rs). An aggregate's own
-- data is one JSON document (`body`); the columns beside it are what is looked up, ordered or
-- filtered by. Dates are days since 0001-01-01 and times microseconds since 1970 (BIGINT), so
-- that they compare and index the same on SQLite and PostgreSQL. Portable SQL.

-- The world's one row: sandbox time, the counter behind ids and secrets, the demo client.
CREATE TABLE world (
    id BIGINT PRIMARY KEY,
    now_us BIGINT NOT NULL,
    counter BIGINT NOT NULL,
    demo_client BIGINT,
    demo_token TEXT,
    -- The last day whose daily processes (overdue, escalation, settlement) have run.
    processed_day BIGINT NOT NULL
);

CREATE TABLE clients (
    id BIGINT PRIMARY KEY,
    business_id TEXT NOT NULL UNIQUE,
    body TEXT NOT NULL
);

-- SHA-256 (hex) of each live token; tokens themselves are never stored.
CREATE TABLE tokens (
    hash TEXT PRIMARY KEY,
    client_id BIGINT NOT NULL,
    expires_us BIGINT
);
CREATE INDEX tokens_by_client ON tokens (client_id);

CREATE TABLE invoices (
    client_id BIGINT NOT NULL,
    number BIGINT NOT NULL,
    invoice_day BIGINT NOT NULL,
    payment_reference TEXT NOT NULL UNIQUE,
    -- When the pending distribution completes; NULL when none is pending.
    distribute_us BIGINT,
    -- The day the invoice becomes overdue, while it is invoiced and unpaid; else NULL.
    overdue_day BIGINT,
    -- The distribution's status and method (wire names); NULL when it has none.
    distribution_status TEXT,
    distribution_method TEXT,
    body TEXT NOT NULL,
    PRIMARY KEY (client_id, number)
);
CREATE INDEX invoices_by_date ON invoices (client_id, invoice_day, number);
CREATE INDEX invoices_to_distribute ON invoices (distribute_us) WHERE distribute_us IS NOT NULL;
CREATE INDEX invoices_to_overdue ON invoices (overdue_day) WHERE overdue_day IS NOT NULL;

-- Invoices whose next distribution is to fail (the invoice may not exist yet).
CREATE TABLE failing_distributions (
    client_id BIGINT NOT NULL,
    number BIGINT NOT NULL,
    PRIMARY KEY (client_id, number)
);

CREATE TABLE cases (
    id BIGINT PRIMARY KEY,
    client_id BIGINT NOT NULL,
    invoice_number BIGINT NOT NULL,
    -- The day the case next escalates (reminder, demand, collection); NULL when it will not.
    escalate_day BIGINT,
    body TEXT NOT NULL
);
CREATE INDEX cases_to_escalate ON cases (escalate_day) WHERE escalate_day IS NOT NULL;

CREATE TABLE payments (
    allocation_id BIGINT PRIMARY KEY,
    client_id BIGINT NOT NULL,
    case_id BIGINT NOT NULL,
    invoice_number BIGINT NOT NULL,
    payment_day BIGINT NOT NULL,
    -- 1 while the agency still has to settle it to the creditor; else NULL.
    unsettled BIGINT,
    body TEXT NOT NULL
);
CREATE INDEX payments_by_date ON payments (client_id, payment_day);
CREATE INDEX payments_by_case ON payments (case_id);
CREATE INDEX payments_unsettled ON payments (client_id, allocation_id) WHERE unsettled IS NOT NULL;

CREATE TABLE settlements (
    id BIGINT PRIMARY KEY,
    client_id BIGINT NOT NULL,
    settlement_day BIGINT NOT NULL,
    -- 1 until the client's integration first fetches it; else NULL.
    unfetched BIGINT,
    body TEXT NOT NULL
);
CREATE INDEX settlements_by_date ON settlements (client_id, settlement_day, id);
CREATE INDEX settlements_unfetched ON settlements (client_id, id) WHERE unfetched IS NOT NULL;
CREATE INDEX settlements_of_day ON settlements (settlement_day);

CREATE TABLE accounting (
    seq BIGINT PRIMARY KEY,
    client_id BIGINT NOT NULL,
    kind TEXT NOT NULL,
    source_identifier TEXT NOT NULL,
    document_day BIGINT NOT NULL,
    -- When the accounting system takes the submission in; NULL once it has.
    sync_us BIGINT,
    body TEXT NOT NULL,
    UNIQUE (client_id, kind, source_identifier)
);
CREATE INDEX accounting_by_date ON accounting (client_id, kind, document_day, seq);
CREATE INDEX accounting_to_sync ON accounting (sync_us) WHERE sync_us IS NOT NULL;
