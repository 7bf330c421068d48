// The messages a worker process forked by `grove serve` sends its primary over node:cluster IPC:
// its URL once it listens, and its live versions whenever they change. The gateway's local
// discovery reads them; the process entry that composes a worker writes them.

export interface WorkerIpcMessage {
  type: 'grove:listening' | 'grove:versions';
  url?: string;
  versions: Record<string, string[]>;
}
