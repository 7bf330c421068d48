// The messages a worker process forked by `grove serve` sends its primary over node:cluster IPC:
// its URL once it listens, and its live versions whenever they change. The gateway's local
// discovery reads them; the process entry that composes a worker writes them.

export interface WorkerIpcMessage extends Partial<WorkerNotes> {
  type: 'grove:listening' | 'grove:versions';
  url?: string;
  versions: Record<string, string[]>;
}

/**
 * What a worker says beside its live versions, so the gateway can say it too: its repository's
 * layout problems (a missing folder, a model file without a version folder) and, for models none
 * of whose versions loaded, why (answered as 503 with the reason rather than 404).
 */
export interface WorkerNotes {
  problems: string[];
  unavailable: Record<string, string>;
}
