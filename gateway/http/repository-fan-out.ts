// Triton's model repository API at the gateway (docs/api.md, Model repository API), on the admin
// listener behind its token: `POST /v2/repository/models/{m}/load|unload` goes to every healthy
// worker (the body, uploads included, sent to each as received) and is answered once all of them
// have answered: 200 when every worker did it, else the first failure's status and error, so a
// client never sees success while some worker still serves the old state (a worker that is
// down then is not reached: a replacement loads what the repository folder holds). `POST
// /v2/repository/index` is one healthy worker's index. Workers need the same token: `grove serve`
// gives its own to the workers it forks; `grove gateway` assumes its upstreams were started with it.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GroveError, RetryLaterError } from '../../shared/errors/grove-error.js';
import { readBody } from '../../shared/http/read-body.js';
import { NodeReply, replyJson, replyJsonText } from '../../shared/http/reply.js';
import { ControlError, controlRequest } from '../upstream/control-client.js';
import type { UpstreamWorker } from '../upstream/upstream-worker.js';
import type { WorkerSet } from '../upstream/worker-set.js';
import type { AdminRouteHandler } from './admin-handler.js';

export interface RepositoryFanOutOptions {
  /** The bearer token the workers' repository API takes. */
  token: string;
  /** Largest load body accepted (uploads): the workers' --max-upload. */
  maxBodyBytes: number;
  /** A load waits for every version to be READY: this bounds it per worker. */
  timeoutMs: number;
}

interface WorkerAnswer {
  status: number;
  body: string;
}

export function repositoryRoutes(
  workers: WorkerSet,
  opts: RepositoryFanOutOptions,
): { method: string; pattern: string; handler: AdminRouteHandler }[] {
  const send = async (w: UpstreamWorker, path: string, body: Buffer, id: string): Promise<WorkerAnswer> => {
    try {
      const r = await controlRequest(w.agent, w.host, w.port, {
        method: 'POST',
        path,
        headers: {
          authorization: `Bearer ${opts.token}`,
          'content-type': 'application/json',
          'content-length': String(body.length),
          'x-request-id': id,
        },
        body,
        timeoutMs: opts.timeoutMs,
      });
      return { status: r.status, body: r.body.toString('utf8') };
    } catch (err) {
      // No worker address in what the client sees.
      const code = err instanceof ControlError && err.code === 'TIMEOUT' ? 'timed out' : 'failed';
      const e = new GroveError(`a worker's repository call ${code}`, 'GROVE_ERR_UPSTREAM');
      return { status: e.statusCode, body: JSON.stringify(e.toJSON()) };
    }
  };

  const healthy = (): UpstreamWorker[] => workers.all.filter((w) => w.healthy);

  const everyWorker =
    (action: 'load' | 'unload'): AdminRouteHandler =>
    async (req: IncomingMessage, res: ServerResponse, params, id) => {
      const body = await readBody(req, opts.maxBodyBytes);
      const targets = healthy();
      if (targets.length === 0)
        throw new RetryLaterError('no healthy worker to apply the repository call to');
      const path = `/v2/repository/models/${encodeURIComponent(params.model!)}/${action}`;
      // Uploads go to one worker at a time: under `grove serve` the workers share one repository
      // folder, and each stages and renames the same files into it (identical bytes, so the second
      // finds them in place); concurrent renames of one version folder would collide. A failure
      // stops there, so the workers after it are left as they were.
      let answers: WorkerAnswer[];
      if (body.includes('"parameters"')) {
        answers = [];
        for (const w of targets) {
          const a = await send(w, path, body, id);
          answers.push(a);
          if (a.status !== 200) break;
        }
      } else answers = await Promise.all(targets.map((w) => send(w, path, body, id)));
      const failed = answers.find((a) => a.status !== 200);
      const reply = new NodeReply(res);
      if (failed !== undefined) {
        replyJsonText(reply, failed.status, failed.body, id);
        return;
      }
      let first: unknown = null;
      try {
        first = JSON.parse(answers[0]!.body);
      } catch {
        first = null;
      }
      const merged = first !== null && typeof first === 'object' ? { ...first } : {};
      replyJson(reply, 200, { ...merged, workers: answers.length }, id);
    };

  return [
    {
      method: 'POST',
      pattern: '/v2/repository/index',
      handler: async (req, res, _p, id) => {
        const body = await readBody(req, 64 * 1024);
        const w = healthy()[0];
        if (w === undefined) throw new RetryLaterError('no healthy worker to read the repository index from');
        const a = await send(w, '/v2/repository/index', body, id);
        replyJsonText(new NodeReply(res), a.status, a.body, id);
      },
    },
    { method: 'POST', pattern: '/v2/repository/models/{model}/load', handler: everyWorker('load') },
    { method: 'POST', pattern: '/v2/repository/models/{model}/unload', handler: everyWorker('unload') },
  ];
}
