// The worker thread that loads model files inside a load host (load-host.ts), under V8 heap
// limits the host set when it started this thread. It reads the file (without following a final
// symbolic link unless asked, and never more than LIMITS.fileBytes), hashes it, decodes it into its
// container (loadModelBuffer: every check of the decoders and of the container runs here first,
// only the kernels are left to the process that serves it), and hands the host the container's
// SharedArrayBuffer. The thread survives a failed load and takes the next one; the host replaces
// it after a deadline or a memory failure.
import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { GroveError, ModelFormatError } from '../../errors/grove-error.js';
import { LIMITS } from '../limits.js';
import { loadModelBuffer } from '../load.js';
import type { LoadRequest, ThreadReady, ThreadReply } from './load-messages.js';

/**
 * The file's bytes, read through one descriptor: no symlink swap between the checks and the read.
 * Synchronous calls: this thread does nothing else meanwhile, and each asynchronous step was a
 * round trip through libuv's thread pool (a third of a small model's load).
 */
function readModelFile(path: string, followLinks: boolean): Uint8Array {
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO planted in the repository returns at once (and is refused below as
    // not a regular file) instead of blocking this thread where no deadline can stop it.
    const noFollow = followLinks ? 0 : constants.O_NOFOLLOW;
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | noFollow);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOOP')
      throw new ModelFormatError('the model file is a symbolic link (not followed)', 'GROVE_ERR_MODEL_LINK');
    throw new ModelFormatError(`the model file cannot be opened (${(err as NodeJS.ErrnoException).code})`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new ModelFormatError('the model file is not a regular file');
    if (st.size > LIMITS.fileBytes)
      throw new ModelFormatError(`the model file has ${st.size} bytes; grove's limit is ${LIMITS.fileBytes}`);
    const bytes = new Uint8Array(st.size);
    let done = 0;
    while (done < st.size) {
      const bytesRead = readSync(fd, bytes, done, st.size - done, done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return done === st.size ? bytes : bytes.subarray(0, done);
  } finally {
    closeSync(fd);
  }
}

function load(m: LoadRequest): ThreadReply {
  try {
    const bytes = readModelFile(m.path, m.followLinks);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    // Decoded and checked as loadModel does; the kernels are compiled where the model will serve.
    const buffer = loadModelBuffer(bytes, { fileName: m.fileName });
    return { id: m.id, ok: true, buffer, sha256 };
  } catch (err) {
    if (err instanceof GroveError) return { id: m.id, ok: false, message: err.message, code: err.code };
    // A decoder bug or an engine limit (RangeError, stack overflow): still the file's failure.
    const message = `the model file could not be decoded (${(err as Error)?.name ?? 'error'})`;
    return { id: m.id, ok: false, message, code: 'GROVE_ERR_MODEL_FORMAT' };
  }
}

parentPort!.on('message', (m: LoadRequest) => {
  parentPort!.postMessage(load(m));
});
// Imports are done: the host starts a load's deadline from here, not from the thread's start.
parentPort!.postMessage({ ready: true } satisfies ThreadReady);
