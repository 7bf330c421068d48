// The one error path of every grove command (docs/cli.md, Exit status): whatever a command throws
// is printed as one line, `grove <command>: <message> (GROVE_ERR_...)`, and the command exits 2.
// Node's file and listen errors (ENOENT, EISDIR, EACCES, EADDRINUSE, ...) become coded messages
// that name the path or address; anything else is an internal error whose stack is printed only
// with GROVE_DEBUG=1, so a user never gets a stack trace for an ordinary mistake.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isGroveErrorCode } from '../shared/errors/catalogue.js';
import { GroveError } from '../shared/errors/grove-error.js';
import { MODEL_FILE_NAMES } from '../worker/repository/scan-repository.js';

/** Exit statuses shared by every command. */
export const EXIT_OK = 0;
/** The command ran and its answer is negative: compare rejects, loadtest saw too many errors. */
export const EXIT_NEGATIVE = 1;
/** The command could not do what was asked: bad arguments, files, addresses, a refused request. */
export const EXIT_ERROR = 2;

const FILE_CODES = new Set(['ENOENT', 'EISDIR', 'ENOTDIR', 'EACCES', 'EPERM', 'ELOOP', 'ENAMETOOLONG']);

function fileProblem(code: string, path: string): string {
  switch (code) {
    case 'ENOENT':
      return `'${path}' does not exist`;
    case 'EISDIR':
      return `'${path}' is a folder, not a file`;
    case 'ENOTDIR':
      return `'${path}': a part of the path is a file, not a folder`;
    case 'EACCES':
    case 'EPERM':
      return `'${path}': permission denied`;
    default:
      return `'${path}' cannot be used (${code})`;
  }
}

/** Any thrown value as the GroveError a command reports. */
export function toCliError(err: unknown): GroveError {
  if (err instanceof GroveError) return err;
  const e = err as NodeJS.ErrnoException & { address?: string; port?: number };
  if (e && typeof e === 'object' && typeof e.code === 'string') {
    if (e.syscall === 'listen' || e.code === 'EADDRINUSE' || e.code === 'EADDRNOTAVAIL') {
      const where = e.address !== undefined ? `${e.address}:${e.port}` : 'the address';
      const why =
        e.code === 'EADDRINUSE'
          ? `${where} is already in use (is another grove serve, gateway or worker running?): stop it, or choose another port`
          : e.code === 'EADDRNOTAVAIL'
            ? `cannot listen on ${where}: that address is not on this machine`
            : e.code === 'EACCES'
              ? `cannot listen on ${where}: permission denied (ports below 1024 need privileges)`
              : `cannot listen on ${where} (${e.code})`;
      return new GroveError(why, 'GROVE_ERR_LISTEN', { cause: err });
    }
    if (FILE_CODES.has(e.code)) {
      const msg =
        typeof e.path === 'string' ? fileProblem(e.code, e.path) : `${e.code}: ${e.message ?? String(e)}`;
      return new GroveError(msg, 'GROVE_ERR_FILE', { cause: err });
    }
  }
  const message = err instanceof Error ? err.message : String(err);
  return new GroveError(`internal error: ${message}`, 'GROVE_ERR_INTERNAL', { cause: err });
}

/** Prints the one line for a failed command and returns its exit status. */
export function reportCliError(command: string, err: unknown): number {
  const g = toCliError(err);
  const who = command ? `grove ${command}` : 'grove';
  process.stderr.write(`${who}: ${g.message} (${g.code})\n`);
  if (g.code === 'GROVE_ERR_INTERNAL') {
    if (process.env.GROVE_DEBUG) {
      const cause = g.cause instanceof Error ? g.cause : g;
      process.stderr.write(`${cause.stack ?? cause.message}\n`);
    } else process.stderr.write(`${who}: run with GROVE_DEBUG=1 to see where it failed\n`);
  }
  return EXIT_ERROR;
}

/**
 * Checks a file a command reads before it is opened, so the message names the flag and the path.
 * A folder given where a model file is expected names the model file inside it, if it holds one.
 */
export function checkInputFile(path: string, flag: string, kind: 'model' | 'file' = 'file'): void {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'ENOENT';
    throw new GroveError(`${flag} ${fileProblem(code, path)}`, 'GROVE_ERR_FILE');
  }
  if (!isDir) return;
  let hint = '';
  if (kind === 'model') {
    let inside: string[] = [];
    try {
      inside = readdirSync(path).filter((n) => MODEL_FILE_NAMES.includes(n));
    } catch {
      inside = [];
    }
    hint =
      inside.length > 0
        ? `; the model file in it is ${join(path, inside[0]!)}`
        : `; give the model file itself (${MODEL_FILE_NAMES.join(', ')})`;
  }
  throw new GroveError(`${flag} '${path}' is a folder, not a file${hint}`, 'GROVE_ERR_FILE');
}

/** A server's refusal (`{"error", "code"}`, or any text) as the error a command reports. */
export function refusal(who: string, text: string): GroveError {
  let answer: { error?: unknown; code?: unknown } = {};
  try {
    answer = JSON.parse(text) as typeof answer;
  } catch {
    answer = {};
  }
  const message = typeof answer?.error === 'string' ? answer.error : text.trim().slice(0, 300);
  return new GroveError(
    `${who} refused: ${message}`,
    isGroveErrorCode(answer?.code) ? answer.code : 'GROVE_ERR_UPSTREAM',
  );
}
