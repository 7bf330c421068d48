-- Durable prediction jobs (docs/jobs.md): one row per job, its input in chunks until each chunk is
-- scored, and one row per scored input row. The same SQL runs on PGlite and on PostgreSQL.

CREATE TABLE grove_jobs (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  model text NOT NULL,
  version text NOT NULL,
  status text NOT NULL DEFAULT 'queued'
    CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
  -- false while the input is still arriving: such a job is not listed, and is deleted when its
  -- upload lease runs out (the uploading gateway died or the client went away).
  sealed boolean NOT NULL DEFAULT false,
  upload_lease timestamptz,
  format text NOT NULL CHECK (format IN ('csv', 'ndjson')),
  -- The CSV header the workers get (the key column removed).
  header text,
  key_column text,
  on_error text NOT NULL DEFAULT 'fail' CHECK (on_error IN ('fail', 'skip')),
  notify_url text,
  output_names text[],
  rows_total bigint,
  rows_done bigint NOT NULL DEFAULT 0,
  rows_failed bigint NOT NULL DEFAULT 0,
  chunks_total integer,
  chunks_done integer NOT NULL DEFAULT 0,
  input_bytes bigint NOT NULL DEFAULT 0,
  error text,
  error_code text,
  -- Results and input of a failed or cancelled job are deleted once (true when done).
  purged boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  started_at timestamptz,
  finished_at timestamptz
);

CREATE INDEX grove_jobs_succeeded ON grove_jobs (model, finished_at DESC) WHERE status = 'succeeded';

-- Input waiting to be scored. A row is deleted in the transaction that stores its results, so a
-- chunk is either pending here or scored there, never both.
CREATE TABLE grove_job_chunks (
  job_id bigint NOT NULL REFERENCES grove_jobs (id) ON DELETE CASCADE,
  seq integer NOT NULL,
  first_row bigint NOT NULL,
  row_count integer NOT NULL,
  -- The rows as the workers get them (CSV lines without the header, or NDJSON lines).
  body text NOT NULL,
  keys text[],
  -- Offsets (0-based, within the chunk) of rows refused at intake; their error rows are stored.
  skip integer[],
  claim text,
  lease_until timestamptz,
  attempts integer NOT NULL DEFAULT 0,
  last_error text,
  last_error_code text,
  PRIMARY KEY (job_id, seq)
);
-- Bodies are written once and read once: compressing them costs more than it saves.
ALTER TABLE grove_job_chunks ALTER COLUMN body SET STORAGE EXTERNAL;

-- One row per input row of a job (row_no from 1, in input order): its outputs, or its error.
CREATE TABLE grove_job_results (
  job_id bigint NOT NULL,
  row_no bigint NOT NULL,
  key text,
  outputs double precision[],
  error text,
  error_code text,
  PRIMARY KEY (job_id, row_no)
);

-- Serving by key: GET /v1/models/{m}/predictions/{key}.
CREATE INDEX grove_job_results_key ON grove_job_results (key, job_id) WHERE key IS NOT NULL;
