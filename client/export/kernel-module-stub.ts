// Stands in for shared/runtime/trees/wasm/kernel-module.ts (the WebAssembly emitter) in the runtime
// bundled into exported modules: a module carries its kernel's bytes, compiled at export time, so
// the emitter would be dead weight (build-runtime-bundle.ts swaps this file in).
export function kernelModuleBytes(): Uint8Array {
  throw new Error('an exported module carries its WebAssembly kernel; it emits none');
}
