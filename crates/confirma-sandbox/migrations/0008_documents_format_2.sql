-- Documents are packed in format 2 from this version (`src/store/documents.rs`: a dictionary
-- trained by zstd), which an earlier build cannot unpack. Nothing in the schema changes: this
-- version is recorded so that an earlier build refuses the database instead of failing on every
-- document written since.
SELECT 1;
