// What build of grove this process runs: the package version (server metadata, the
// `grove_build_info` metric, the OpenTelemetry resource's service.version) and, when the build
// pipeline sets GROVE_BUILD_REVISION (e.g. a git commit), the revision.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from './runtime-path.js';

function readVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}

export const groveVersion: string = readVersion();

export const buildRevision: string = process.env.GROVE_BUILD_REVISION?.slice(0, 64) ?? '';
