// Calls to a worker that are not predictions on the data connections (data-pool.ts): health
// checks, model lists, fan-out, predictions too large for the worker's fast front. node:http over
// the worker's keep-alive agents, the whole answer buffered (these answers are small, and a
// buffered answer can still be retried). Failures reject with the socket's code (ECONNREFUSED...)
// or TIMEOUT.
import { type Agent, type IncomingHttpHeaders, type OutgoingHttpHeaders, request } from 'node:http';

export interface ControlAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  /** As received: [name, value...] */
  rawHeaders: string[];
  body: Buffer;
}

export interface ControlRequest {
  method: string;
  path: string;
  headers?: OutgoingHttpHeaders;
  body?: Buffer | null;
  timeoutMs: number;
  /** Answers past this size are refused (the call fails). */
  maxBytes?: number;
}

export class ControlError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function controlRequest(
  agent: Agent,
  host: string,
  port: number,
  r: ControlRequest,
): Promise<ControlAnswer> {
  return new Promise((resolve, reject) => {
    const limit = r.maxBytes ?? 64 * 1024 * 1024;
    let settled = false;
    const fail = (code: string, message: string) => {
      if (settled) return;
      settled = true;
      req.destroy();
      reject(new ControlError(code, message));
    };
    const req = request(
      { host, port, method: r.method, path: r.path, headers: r.headers, agent, timeout: r.timeoutMs },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > limit) fail('TOO_LARGE', 'answer too large');
          else chunks.push(c);
        });
        res.on('end', () => {
          if (settled) return;
          settled = true;
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            rawHeaders: res.rawHeaders,
            body: Buffer.concat(chunks, size),
          });
        });
        res.on('error', (e: Error & { code?: string }) => fail(e.code ?? 'ECONNRESET', e.message));
        res.on('aborted', () => fail('ECONNRESET', 'answer aborted'));
      },
    );
    req.on('timeout', () => fail('TIMEOUT', 'timeout'));
    req.on('error', (e: Error & { code?: string }) => fail(e.code ?? 'ECONNRESET', e.message));
    req.end(r.body ?? undefined);
  });
}
