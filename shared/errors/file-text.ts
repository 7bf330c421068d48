// Text taken from a model file never appears in an error message as such: it goes through
// `fileText`, which quotes it between ‘ and ’ (short, printable, without those quote marks inside),
// and `withoutFileText` removes every such quote. Logs and the CLI show the whole message; reasons
// served on public routes show `withoutFileText(message)`, so a file that is not a model (a
// secret behind a link, say) is never quoted to a client (docs/formats.md "Untrusted files").

const OPEN = '\u2018';
const CLOSE = '\u2019';
const MAX = 80;

/** `s` (text from a model file) quoted for an error message: at most 80 characters, printable. */
export function fileText(s: unknown): string {
  const text = String(s);
  let out = '';
  for (const ch of text.length > MAX ? text.slice(0, MAX) : text) {
    const c = ch.codePointAt(0)!;
    out += c < 0x20 || c === 0x7f || ch === OPEN || ch === CLOSE ? '?' : ch;
  }
  return `${OPEN}${out}${text.length > MAX ? '…' : ''}${CLOSE}`;
}

/** The message with every fileText quote replaced by an ellipsis in quotes. */
export function withoutFileText(message: string): string {
  return message.replace(/\u2018[^\u2019]*\u2019/g, `${OPEN}…${CLOSE}`);
}
