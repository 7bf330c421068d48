// Messages of an isolated load (model-loader.ts): the serving process asks a load host process
// (load-host.ts) over IPC; the host runs the load in a worker thread (load-thread.ts) with V8
// heap limits and a deadline. Failures travel as data so their GROVE_ERR_ code survives.

/** What to load and within which limits. */
export interface LoadRequest {
  id: number;
  /** The model file; opened without following a final symbolic link unless `followLinks`. */
  path: string;
  /** The repository's name for it (helps format detection). */
  fileName: string;
  followLinks: boolean;
  timeoutMs: number;
  heapMb: number;
}

/** A loaded model: its container bytes (a copy the receiver checks again) and the file's sha256. */
export interface LoadSuccess {
  id: number;
  ok: true;
  bytes: Uint8Array;
  sha256: string;
}

export interface LoadFailure {
  id: number;
  ok: false;
  message: string;
  code: string;
}

export type LoadReply = LoadSuccess | LoadFailure;

/** The load thread's first message: its modules are loaded, loads may start. */
export interface ThreadReady {
  ready: true;
}

/** What the load thread answers the host: the container stays in shared memory. */
export type ThreadReply =
  | { id: number; ok: true; buffer: SharedArrayBuffer; sha256: string }
  | { id: number; ok: false; message: string; code: string };
