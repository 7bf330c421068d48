// `grove serve --models DIR [--port 8080] [--workers N] [--policy p2c] [--admin-port 8081]
// [--admin-host 127.0.0.1] [--admin-token T | env GROVE_ADMIN_TOKEN] [--state-dir DIR]`
// (docs/architecture.md, Processes): the gateway in this (primary) process plus N local worker processes under
// node:cluster, respawned when they die (a booted standby, --spares, takes a dead one's place at
// once). Prints `grove gateway listening on URL`, `grove admin
// listening on URL` and, when no token was given, `grove admin token: T` (a generated one, also
// written to <state-dir>/admin-token; the admin API never runs without a token). SIGTERM/SIGINT: stop accepting, drain, stop the workers,
// exit 0. Splits persist in <state-dir>/splits.json (default <models>/.grove, which the worker's
// repository scan ignores: model names cannot start with '.').
import { existsSync } from 'node:fs';
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { LocalCluster } from '../../gateway/discovery/local-cluster.js';
import { type Gateway, startGateway } from '../../gateway/gateway.js';
import { isPolicyName } from '../../gateway/policies/policy.js';
import { FileSplitBackend } from '../../gateway/split/split-registry.js';
import { jobsFromArgs } from '../../jobs/jobs-cli-options.js';
import { GroveError } from '../../shared/errors/grove-error.js';
import { builtFile } from '../../shared/runtime-path.js';
import {
  MONITOR_CLI_OPTIONS,
  MONITOR_CLI_USAGE,
  monitoringEnv,
  monitoringFromArgs,
} from '../../worker/monitor/monitor-cli-options.js';
import { layoutProblems } from '../../worker/repository/layout-problems.js';
import { parseCommandArgs } from '../command-args.js';
import {
  loadLimitsFromArgs,
  REPOSITORY_CLI_OPTIONS,
  REPOSITORY_CLI_USAGE,
  repositoryEnv,
} from '../load-options.js';
import { gatewayOptionSpecs, parseGatewayCommon, waitForSignal } from './gateway.js';

const USAGE = `usage: grove serve [--models DIR] [options]

  --models DIR          model repository (default ./models)
  --workers N           local worker processes (default: available parallelism)
  --threads N           predict threads per worker (default: the worker's own default)
  --spares N            booted standby workers that replace a dead one at once (default 1)
  --worker-nice N       run the workers N nice steps (0..19) below the gateway's CPU priority
                        (default 10): under overload the gateway still gets the CPU to shed
                        (a generated admin token is also written to <state-dir>/admin-token)
${MONITOR_CLI_USAGE}${REPOSITORY_CLI_USAGE}${'' /* shared options */}${gatewayOptionSpecs.usage}`;

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommandArgs(
    'serve',
    argv,
    {
      ...gatewayOptionSpecs.options,
      models: { type: 'string' },
      workers: { type: 'string' },
      threads: { type: 'string' },
      spares: { type: 'string' },
      'worker-nice': { type: 'string' },
      ...MONITOR_CLI_OPTIONS,
      ...REPOSITORY_CLI_OPTIONS,
    },
    USAGE,
  );
  if (typeof parsed === 'number') return parsed;
  const values: Record<string, string | boolean | undefined> = parsed;
  const modelsDir = resolve((values.models as string | undefined) ?? 'models');
  const count = values.workers === undefined ? availableParallelism() : Number(values.workers);
  if (!Number.isInteger(count) || count < 1 || count > 256) {
    process.stderr.write('grove serve: --workers must be an integer in 1..256\n');
    return 2;
  }
  const spares = values.spares === undefined ? 1 : Number(values.spares);
  if (!Number.isInteger(spares) || spares < 0 || spares > 16) {
    process.stderr.write('grove serve: --spares must be an integer in 0..16\n');
    return 2;
  }
  const nice = values['worker-nice'] === undefined ? 10 : Number(values['worker-nice']);
  if (!Number.isInteger(nice) || nice < 0 || nice > 19) {
    process.stderr.write('grove serve: --worker-nice must be an integer in 0..19\n');
    return 2;
  }
  let common: ReturnType<typeof parseGatewayCommon>;
  try {
    // Forked workers read their monitoring flags from the environment (cluster-worker-main.ts).
    Object.assign(process.env, monitoringEnv(monitoringFromArgs(values)));
    Object.assign(process.env, repositoryEnv(loadLimitsFromArgs(values), values['follow-symlinks'] === true));
    common = parseGatewayCommon(values);
  } catch (err) {
    process.stderr.write(`grove serve: ${(err as Error).message}\n`);
    return 2;
  }
  if (!isPolicyName(common.policy)) return 2;
  // The default state folder lives in the repository; a repository that does not exist is not
  // made by it (the workers say it is missing), so state then goes to a temporary folder.
  const given = values['state-dir'] as string | undefined;
  const temporaryState = given === undefined && !existsSync(modelsDir);
  const stateDir =
    given ?? (temporaryState ? join(tmpdir(), `grove-state-${process.pid}`) : join(modelsDir, '.grove'));
  try {
    common.jobs = jobsFromArgs(values, resolve(stateDir));
  } catch (err) {
    process.stderr.write(`grove serve: ${(err as Error).message}\n`);
    return 2;
  }
  let gw: Gateway;
  try {
    gw = await startGateway({
      ...common,
      modelsDir,
      splitBackend: new FileSplitBackend(join(stateDir, 'splits.json')),
      pollVersions: true,
    });
  } catch (err) {
    if (err instanceof GroveError) {
      process.stderr.write(`grove serve: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  // The workers listen on ports nobody configures: /metrics serves their series too.
  gw.metrics.includeWorkers(gw.workers);
  const log = (m: string) => process.stderr.write(`grove serve: ${m}\n`);
  // Said once here, in words, before the workers log it: a repository that serves nothing.
  for (const p of await layoutProblems(modelsDir)) log(`warning: ${p}`);
  const local = new LocalCluster(gw.workers, {
    count,
    workerEntry: builtFile('cli/cluster-worker-main.js'),
    spares,
    modelsDir,
    threads: values.threads === undefined ? undefined : Number(values.threads),
    nice,
    log,
    ...(gw.adminToken ? { adminToken: gw.adminToken } : {}),
  });
  await local.start();
  process.stdout.write(`grove gateway listening on ${gw.url}\n`);
  if (gw.adminUrl) process.stdout.write(`grove admin listening on ${gw.adminUrl}\n`);
  if (gw.grpcAddress) process.stdout.write(`grove gateway grpc listening on ${gw.grpcAddress}\n`);
  let tokenFile: string | null = null;
  if (gw.tokenGenerated) {
    process.stdout.write(`grove admin token: ${gw.adminToken}\n`);
    tokenFile = await writeTokenFile(stateDir, gw.adminToken!, log);
  }
  process.stdout.write(`grove workers: ${local.pids().join(' ')}\n`);
  await waitForSignal();
  log('stopping: draining requests, then stopping workers');
  await gw.close();
  await local.stop();
  if (tokenFile) await rm(tokenFile, { force: true });
  // A temporary state folder holds nothing worth keeping once the cluster has stopped.
  if (temporaryState) await rm(stateDir, { recursive: true, force: true });
  await common.tracing?.shutdown();
  return 0;
}

/**
 * A generated admin token is also written to <state-dir>/admin-token (mode 0600, removed on a
 * graceful stop), so a shell on the same machine can pick it up without copying it from the log:
 * `export GROVE_ADMIN_TOKEN=$(cat models/.grove/admin-token)` (README, A/B splits).
 */
async function writeTokenFile(
  stateDir: string,
  token: string,
  log: (m: string) => void,
): Promise<string | null> {
  const file = join(stateDir, 'admin-token');
  try {
    await mkdir(stateDir, { recursive: true });
    await writeFile(file, `${token}\n`, { mode: 0o600 });
    await chmod(file, 0o600); // an existing file keeps its mode on write
    return file;
  } catch (err) {
    log(`warning: could not write ${file}: ${(err as Error).message}`);
    return null;
  }
}
