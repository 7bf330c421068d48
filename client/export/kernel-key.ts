// The name an exported module files a precompiled JavaScript kernel under: two 32-bit FNV-1a
// hashes of its source (shared/runtime/trees/kernels.ts marginKernelSource) and its length. The
// runtime in the module regenerates each source it needs and looks the factory up by this key, so
// a kernel is only ever used for the exact source it was compiled from.
export function kernelKey(src: string): string {
  let a = 0x811c9dc5;
  let b = 0x01000193;
  for (let i = 0; i < src.length; i++) {
    const c = src.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x01000193) ^ (b >>> 15);
  }
  return `k${(a >>> 0).toString(16)}${(b >>> 0).toString(16)}_${src.length}`;
}
