// NATS subject and name rules for `grove stream`'s flags (docs/streaming.md, Subjects and streams):
// subjects are dot-separated tokens, `*` one token and `>` the rest (input only; results go to
// literal subjects); stream and consumer names are single tokens. The start-up check refuses an
// output or dead-letter subject the input subject also matches: the consumer would score its own
// results forever.
import { GroveError } from '../../shared/errors/grove-error.js';

const MAX_SUBJECT = 512;
const NAME = /^[A-Za-z0-9_-]{1,128}$/;

function configError(msg: string): GroveError {
  return new GroveError(msg, 'GROVE_ERR_STREAM_CONFIG');
}

/** Throws unless `s` is a valid subject (with wildcards only when allowed). */
export function checkSubject(s: string, flag: string, wildcards: boolean): string {
  if (s.length === 0 || s.length > MAX_SUBJECT || /[\s\0]/.test(s))
    throw configError(`${flag} must be a NATS subject of 1 to ${MAX_SUBJECT} characters without spaces`);
  const tokens = s.split('.');
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.length === 0) throw configError(`${flag} '${s}' has an empty token`);
    const wild = t === '*' || t === '>';
    if (!wild && (t.includes('*') || t.includes('>')))
      throw configError(`${flag} '${s}': a wildcard must be a whole token`);
    if (wild && !wildcards) throw configError(`${flag} '${s}' must not hold wildcards (it is published to)`);
    if (t === '>' && i !== tokens.length - 1) throw configError(`${flag} '${s}': '>' must be the last token`);
  }
  return s;
}

/** Throws unless `s` can name a stream or a durable consumer. */
export function checkName(s: string, flag: string): string {
  if (!NAME.test(s)) throw configError(`${flag} must be 1 to 128 letters, digits, '-' or '_'`);
  return s;
}

/** Whether the literal `subject` is matched by `pattern` (which may hold * and >). */
export function subjectMatches(pattern: string, subject: string): boolean {
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return s.length > i;
    if (i >= s.length) return false;
    if (p[i] !== '*' && p[i] !== s[i]) return false;
  }
  return p.length === s.length;
}

/** The name of a stream grove creates for a subject: `grove-` and the subject, dots as '_'. */
export function streamNameFor(subject: string): string {
  const name = `grove-${subject
    .replace(/\*/g, 'any')
    .replace(/>/g, 'all')
    .replace(/[^A-Za-z0-9_-]/g, '_')}`;
  return name.length <= 128 ? name : name.slice(0, 128);
}

export interface StreamSubjects {
  input: string;
  output: string;
  deadLetter: string;
}

/** Checks the three subjects one by one and together. */
export function checkSubjects(s: StreamSubjects): StreamSubjects {
  checkSubject(s.input, '--subject', true);
  checkSubject(s.output, '--output-subject', false);
  checkSubject(s.deadLetter, '--dead-letter-subject', false);
  for (const [flag, subject] of [
    ['--output-subject', s.output],
    ['--dead-letter-subject', s.deadLetter],
  ] as const) {
    if (subjectMatches(s.input, subject))
      throw configError(
        `${flag} '${subject}' is matched by --subject '${s.input}': results would be read back as rows`,
      );
  }
  if (s.output === s.deadLetter) throw configError('--dead-letter-subject must differ from --output-subject');
  return s;
}
