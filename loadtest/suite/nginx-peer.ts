// The nginx peer for the gateway comparison: one nginx worker process (least_conn, keep-alive
// upstreams) in front of the same grove workers, as /work/shared/peers/nginx-lb.sh configures it
// (copied here because a user's clone has no shared/ folder). Runs in the foreground so the suite
// owns its pid. Skipped when nginx is not installed.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, HOST, waitReady } from './processes.js';

export function nginxBinary(): string | null {
  for (const candidate of ['nginx', '/usr/sbin/nginx']) {
    const r = spawnSync(candidate, ['-v'], { stdio: 'ignore' });
    if (r.status === 0) return candidate;
  }
  return null;
}

export function nginxConfig(dir: string, port: number, upstreams: string[]): string {
  const servers = upstreams.map((u) => `    server ${new URL(u).host};`).join('\n');
  return `worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log;
daemon off;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream workers {
    least_conn;
${servers}
    keepalive 128;
  }
  server {
    listen ${HOST}:${port};
    client_max_body_size 64m;
    location / {
      proxy_pass http://workers;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`;
}

export interface NginxPeer {
  url: string;
  stop(): Promise<void>;
}

export async function startNginx(binary: string, upstreams: string[]): Promise<NginxPeer> {
  const dir = mkdtempSync(join(tmpdir(), 'grove-nginx-'));
  const port = await freePort();
  writeFileSync(join(dir, 'nginx.conf'), nginxConfig(dir, port, upstreams));
  const proc: ChildProcess = spawn(binary, ['-c', join(dir, 'nginx.conf'), '-p', dir], { stdio: 'ignore' });
  const url = `http://${HOST}:${port}`;
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGQUIT');
      const t = setTimeout(() => proc.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitReady(`${url}/v2/health/ready`, 10_000, () => proc.exitCode === null);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, stop };
}
