// Build step (`npm run build`, after tsc): bundles module-runtime.ts and the runtime it imports
// into one minified script (runtime-bundle.ts names it) that `grove export` puts in every module it
// writes. esbuild runs here only, at build time; grove does not need it at run time. Platform
// 'neutral': the bundle may use nothing of Node (no process, Buffer, node:*), which the export
// tests check by running exported modules in Chromium and in a bare V8 context.
import { join } from 'node:path';
import { build, type Plugin } from 'esbuild';
import { projectRoot } from '../../shared/runtime-path.js';
import { runtimeBundlePath } from './runtime-bundle.js';

/** The WebAssembly emitter is replaced by a stub: every module carries its kernel ready-made. */
const withoutEmitter: Plugin = {
  name: 'grove-without-wasm-emitter',
  setup(b) {
    b.onResolve({ filter: /^\.\/kernel-module\.js$/ }, (args) =>
      /[\\/]trees[\\/]wasm[\\/]wasm-kernel\.ts$/.test(args.importer)
        ? { path: join(projectRoot, 'client/export/kernel-module-stub.ts') }
        : undefined,
    );
  },
};

async function main(): Promise<void> {
  await build({
    entryPoints: [join(projectRoot, 'client/export/module-runtime.ts')],
    outfile: runtimeBundlePath(),
    bundle: true,
    minify: true,
    format: 'iife',
    globalName: '__grove',
    platform: 'neutral',
    // Syntax every current browser, Node >= 16, Deno, Bun and the edge runtimes parse.
    target: 'es2020',
    legalComments: 'none',
    logLevel: 'warning',
    plugins: [withoutEmitter],
    // The runtime's kernel choice reads GROVE_KERNEL only as a default the module never uses.
    define: { 'process.env.GROVE_KERNEL': 'undefined' },
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
