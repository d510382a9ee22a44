-- A case's escalations (reminder, demand, collection) since its document was last written, one
-- row each: an advance escalates the cases that fall due with three statements a step over their
-- columns (`tables::escalate_cases`), without rewriting their documents. A case is read as its
-- document with these rows replayed on it in day order (`rules::cases::escalate`); the next
-- write of the whole case holds them in its document and removes them.
CREATE TABLE case_escalations (
    space BIGINT NOT NULL,
    case_id BIGINT NOT NULL,
    day BIGINT NOT NULL,
    -- The stage the case reached.
    stage TEXT NOT NULL,
    PRIMARY KEY (space, case_id, day)
);
-- What an escalation step reads off a case: its stage, and whether a demand may follow its
-- reminder (1) or not (0). NULL in rows stored before: an advance first sets them from the
-- document of each such case that falls due (found by `cases_unstaged`).
ALTER TABLE cases ADD COLUMN stage TEXT;
ALTER TABLE cases ADD COLUMN collection_enabled BIGINT;
CREATE INDEX cases_unstaged ON cases (space, escalate_day) WHERE stage IS NULL AND escalate_day IS NOT NULL;
-- Documents are packed in format 3 from this version (`src/store/documents.rs`: a dictionary
-- trained on the documents as stored since this change), which an earlier build cannot unpack.
