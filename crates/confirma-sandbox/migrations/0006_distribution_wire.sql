-- Each invoice's distribution record as the API answers it (the JSON of the spec's
-- DistributionRecord), written with the row whenever the invoice changes, so that a page of
-- distributions joins stored bytes instead of decoding and encoding every invoice. NULL when the
-- invoice has no distribution, and for rows written before this column: reads of those fall back
-- to the invoice's document.
ALTER TABLE invoices ADD COLUMN distribution_json TEXT;
