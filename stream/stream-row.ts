// One stream message as a row (docs/streaming.md, Input): the body is one v1 instance as JSON (an
// array of values, null for missing, or an object of named features), its id the Nats-Msg-Id
// header or else the row's "id" field, and its sticky key the row's field (or else the header)
// named by the sticky name. Everything here is hostile input: the size is checked before the body
// is decoded, and every failure is a GroveError whose code goes into the dead letter.
import { BadInputError, BadJsonError, type GroveError } from '../shared/errors/grove-error.js';
import type { StreamMessage } from './engine/stream-engine.js';

export interface StreamRow {
  id: string;
  /** A v1 instance: an array of values or an object of name -> value (parsed by worker/protocol). */
  row: unknown[] | Record<string, unknown>;
  /** The key a sticky split hashes, if the row (or a header) has one. */
  sticky: string | undefined;
}

export const ID_FIELD = 'id';
const MAX_ID_CHARS = 256;

/** A printable id: 1..256 characters, no control characters (it travels in a header). */
export function checkId(raw: unknown): string {
  let id: string;
  if (typeof raw === 'string') id = raw;
  else if (typeof raw === 'number' && Number.isSafeInteger(raw)) id = String(raw);
  else throw badId(`message id must be a string or an integer, not ${describe(raw)}`);
  if (id.length === 0 || id.length > MAX_ID_CHARS)
    throw badId(`message id must have 1 to ${MAX_ID_CHARS} characters (it has ${id.length})`);
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) throw badId('message id holds a control character');
  }
  return id;
}

function badId(msg: string): GroveError {
  return new BadInputError(msg, 'GROVE_ERR_STREAM_BAD_ID');
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : typeof v;
}

export function decodeRow(m: StreamMessage, maxBytes: number, stickyName: string | undefined): StreamRow {
  const body = m.body;
  if (body.byteLength > maxBytes) {
    throw new BadInputError(
      `message body of ${body.byteLength} bytes exceeds the limit of ${maxBytes} (--max-row-bytes)`,
      'GROVE_ERR_BODY_TOO_LARGE',
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
  } catch {
    throw new BadJsonError('message body is not valid JSON');
  }
  let row: unknown[] | Record<string, unknown>;
  if (Array.isArray(value)) row = value;
  else if (value !== null && typeof value === 'object') row = value as Record<string, unknown>;
  else throw new BadInputError('a row must be an array of values or an object of name -> value');
  let id: string;
  const headerId = m.headerId;
  if (headerId !== null) id = checkId(headerId);
  else if (!Array.isArray(row) && Object.hasOwn(row, ID_FIELD)) id = checkId(row[ID_FIELD]);
  else
    throw new BadInputError(
      'message has no id: set the Nats-Msg-Id header or an "id" field',
      'GROVE_ERR_STREAM_NO_ID',
    );
  let sticky: string | undefined;
  if (stickyName !== undefined) {
    const s = Array.isArray(row) || !Object.hasOwn(row, stickyName) ? undefined : row[stickyName];
    if (typeof s === 'string') sticky = s;
    else if (typeof s === 'number' && Number.isFinite(s)) sticky = String(s);
    else sticky = m.header(stickyName) ?? undefined;
  }
  return { id, row, sticky };
}

/**
 * Removes the id and sticky fields from an object row unless the model has features of those
 * names (they are the message's, not the model's), so the v1 parser does not reject them.
 */
export function stripMeta(
  row: unknown[] | Record<string, unknown>,
  features: ReadonlyMap<string, number>,
  stickyName: string | undefined,
): unknown[] | Record<string, unknown> {
  if (Array.isArray(row)) return row;
  if (Object.hasOwn(row, ID_FIELD) && !features.has(ID_FIELD)) delete row[ID_FIELD];
  if (stickyName !== undefined && Object.hasOwn(row, stickyName) && !features.has(stickyName))
    delete row[stickyName];
  return row;
}
