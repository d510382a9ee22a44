-- Every record's document is stored packed (`src/store/documents.rs`: one format byte, then its
-- JSON compressed against a dictionary), which a text column cannot hold. The documents stored
-- before are kept as the bytes of their JSON text, and read as they are.
ALTER TABLE clients ALTER COLUMN body TYPE BYTEA USING convert_to(body, 'UTF8');
ALTER TABLE invoices ALTER COLUMN body TYPE BYTEA USING convert_to(body, 'UTF8');
ALTER TABLE cases ALTER COLUMN body TYPE BYTEA USING convert_to(body, 'UTF8');
ALTER TABLE payments ALTER COLUMN body TYPE BYTEA USING convert_to(body, 'UTF8');
ALTER TABLE settlements ALTER COLUMN body TYPE BYTEA USING convert_to(body, 'UTF8');
ALTER TABLE accounting ALTER COLUMN body TYPE BYTEA USING convert_to(body, 'UTF8');
