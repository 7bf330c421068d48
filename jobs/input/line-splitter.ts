// Bytes of an upload -> complete lines (UTF-8 decoded across chunk boundaries, a leading byte
// order mark dropped, '\r\n' and '\n' both ending a line). A line longer than the workers accept is
// refused before it is held whole.
import { BadInputError } from '../../shared/errors/grove-error.js';

/** The workers' `:batch` refuses longer lines too (docs/api.md). */
export const MAX_LINE_CHARS = 8 * 1024 * 1024;

export class LineSplitter {
  private readonly decoder = new TextDecoder('utf-8');
  private carry = '';

  /** The lines completed by `buf`, without their line ends. */
  push(buf: Uint8Array): string[] {
    const text = this.carry + this.decoder.decode(buf, { stream: true });
    const out: string[] = [];
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      const end = nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      out.push(text.slice(start, end));
      start = nl + 1;
    }
    this.carry = start === 0 ? text : text.slice(start);
    if (this.carry.length > MAX_LINE_CHARS)
      throw new BadInputError('a line of the job input is longer than 8 MiB', 'GROVE_ERR_LINE_TOO_LONG');
    return out;
  }

  /** The last line, when the input does not end with a line break. */
  end(): string[] {
    const rest = this.carry + this.decoder.decode();
    this.carry = '';
    const line = rest.endsWith('\r') ? rest.slice(0, -1) : rest;
    return line.length > 0 ? [line] : [];
  }
}
