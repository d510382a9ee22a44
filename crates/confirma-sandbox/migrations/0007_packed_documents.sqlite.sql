-- Every record's document is stored packed (`src/store/documents.rs`: one format byte, then its
-- JSON compressed against a dictionary). SQLite keeps each value's own type: the `body` columns
-- hold the packed documents as BLOBs beside the JSON text of those stored before, which is read
-- as it is. Nothing changes in the schema.
SELECT 1;
