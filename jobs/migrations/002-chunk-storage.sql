-- A chunk's input may be kept in a file of the state dir instead of its body (docs/jobs.md, "The
-- input spool"): true when it is, and then body is empty. PGlite writes every page through its
-- file system layer, so input written once and read at most once cost it more than the scoring did.
ALTER TABLE grove_job_chunks ADD COLUMN spooled boolean NOT NULL DEFAULT false;

-- On a PostgreSQL server, a chunk of numeric CSV is stored packed two characters to a byte
-- (jobs/store/digit-pack.ts) when that saves a quarter or more: then body is empty.
ALTER TABLE grove_job_chunks ADD COLUMN body_packed bytea;
ALTER TABLE grove_job_chunks ALTER COLUMN body_packed SET STORAGE EXTERNAL;
