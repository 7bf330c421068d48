-- A chunk's input may be kept in a file of the state dir instead of its body (docs/jobs.md, "The
-- input spool"): true when it is, and then body is empty. PGlite writes every page through its
-- file system layer, so input written once and read at most once cost it more than the scoring did.
ALTER TABLE grove_job_chunks ADD COLUMN spooled boolean NOT NULL DEFAULT false;
