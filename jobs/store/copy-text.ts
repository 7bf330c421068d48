// PostgreSQL COPY text format (https://www.postgresql.org/docs/current/sql-copy.html, "Text
// Format"): columns split by tabs, rows by newlines, NULL as \N; a backslash, tab, newline or
// carriage return inside a value is written as \\, \t, \n, \r. Keys and error messages come from
// clients, so every text value goes through copyValue.

export const COPY_NULL = '\\N';

const SPECIAL = /[\\\t\n\r]/;

export function copyValue(s: string | null): string {
  if (s === null) return COPY_NULL;
  if (!SPECIAL.test(s)) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\') out += '\\\\';
    else if (c === '\t') out += '\\t';
    else if (c === '\n') out += '\\n';
    else if (c === '\r') out += '\\r';
    else out += c;
  }
  return out;
}
