// The model container: ONE SharedArrayBuffer holds a whole model, so threads share it without
// copying and grove's binary file is just these bytes behind a file header (shared/runtime/formats/grove-binary.ts).
//
// Byte layout (little-endian; every section starts on a 64-byte boundary so typed-array views are
// aligned and a section's first cache line is its own; a WebAssembly kernel can address the same
// bytes when the buffer backs a shared WebAssembly.Memory):
//
//   0   u32  magic 0x4D565247 ('GRVM')
//   4   u32  layout version (LAYOUT_VERSION)
//   8   u32  byte length of the descriptor JSON
//   12  u32  reserved (0)
//   16  ...  descriptor JSON (UTF-8): { kind, meta: ModelMeta, sections: {name: {type, offset, length}}, ...kind-specific }
//   ...      sections, each 64-byte aligned: Float64Array, Float32Array, Int32Array, Uint32Array, Uint16Array, Uint8Array
//
// `kind` names the component that reads the sections ('trees', 'linear', 'pipeline', ...): see
// shared/runtime/registry.ts. Kind-specific descriptor fields are small scalars (counts, flags,
// transform names); bulk data always lives in sections.
import { fileText } from '../errors/file-text.js';
import { ModelFormatError } from '../errors/grove-error.js';
import { isPlainObject } from './descriptor-checks.js';
import { LIMITS } from './limits.js';
import type { ModelMeta } from './model.js';

export const CONTAINER_MAGIC = 0x4d565247;
export const LAYOUT_VERSION = 1;
const ALIGN = 64;

export type SectionArray = Float64Array | Float32Array | Int32Array | Uint32Array | Uint16Array | Uint8Array;
type SectionType = 'f64' | 'f32' | 'i32' | 'u32' | 'u16' | 'u8';

const CTORS = {
  f64: Float64Array,
  f32: Float32Array,
  i32: Int32Array,
  u32: Uint32Array,
  u16: Uint16Array,
  u8: Uint8Array,
} as const;

function typeOf(a: SectionArray): SectionType {
  if (a instanceof Float64Array) return 'f64';
  if (a instanceof Float32Array) return 'f32';
  if (a instanceof Int32Array) return 'i32';
  if (a instanceof Uint32Array) return 'u32';
  if (a instanceof Uint16Array) return 'u16';
  return 'u8';
}

export interface SectionRef {
  type: SectionType;
  /** byte offset in the buffer */
  offset: number;
  /** element count */
  length: number;
}

export interface Descriptor {
  kind: string;
  meta: ModelMeta;
  sections: Record<string, SectionRef>;
  [extra: string]: unknown;
}

const align = (n: number) => Math.ceil(n / ALIGN) * ALIGN;

/** Collects named typed arrays, then lays them out in one SharedArrayBuffer. */
export class ContainerBuilder {
  private readonly arrays = new Map<string, SectionArray>();

  add(name: string, data: SectionArray): this {
    if (this.arrays.has(name)) throw new Error(`section '${name}' added twice`);
    this.arrays.set(name, data);
    return this;
  }

  /** `descriptor` is everything but `sections`, which the builder fills. */
  build(descriptor: Omit<Descriptor, 'sections'>): SharedArrayBuffer {
    // Offsets depend on the JSON length, which depends on the offsets: lay out sections after a
    // generous JSON estimate, then fix the real offsets (the JSON is padded to the reserved room).
    const names = [...this.arrays.keys()];
    const draft: Record<string, SectionRef> = {};
    for (const n of names)
      draft[n] = { type: typeOf(this.arrays.get(n)!), offset: 0xffffffff, length: 0xffffffff };
    const estimate = Buffer.byteLength(JSON.stringify({ ...descriptor, sections: draft }));
    let cursor = align(16 + estimate + 64);
    const sections: Record<string, SectionRef> = {};
    for (const n of names) {
      const a = this.arrays.get(n)!;
      sections[n] = { type: typeOf(a), offset: cursor, length: a.length };
      cursor = align(cursor + a.byteLength);
    }
    const json = Buffer.from(JSON.stringify({ ...descriptor, sections }), 'utf8');
    if (16 + json.length > (names.length ? sections[names[0]!]!.offset : Number.POSITIVE_INFINITY)) {
      throw new Error('container descriptor overflowed its room');
    }
    const sab = new SharedArrayBuffer(Math.max(cursor, align(16 + json.length)));
    const head = new DataView(sab);
    head.setUint32(0, CONTAINER_MAGIC, true);
    head.setUint32(4, LAYOUT_VERSION, true);
    head.setUint32(8, json.length, true);
    head.setUint32(12, 0, true);
    new Uint8Array(sab, 16, json.length).set(json);
    for (const n of names) {
      const a = this.arrays.get(n)!;
      const ref = sections[n]!;
      new Uint8Array(sab, ref.offset, a.byteLength).set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    }
    return sab;
  }
}

/**
 * A read-only view of a container: its descriptor and zero-copy views of its sections. The
 * constructor checks the frame (magic, version, descriptor JSON, every section's type, offset and
 * length inside the buffer); each model kind then checks its own fields (descriptor-checks.ts)
 * before it reads them, because the bytes may come from a file or another process.
 */
export class Container {
  readonly descriptor: Descriptor;
  constructor(readonly buffer: SharedArrayBuffer) {
    if (buffer.byteLength < 16)
      throw new ModelFormatError('model buffer is too short to be a grove container');
    const head = new DataView(buffer);
    if (head.getUint32(0, true) !== CONTAINER_MAGIC)
      throw new ModelFormatError('not a grove model container (bad magic)');
    const version = head.getUint32(4, true);
    if (version !== LAYOUT_VERSION) {
      throw new ModelFormatError(
        `grove container layout version ${version} is not supported (this build reads ${LAYOUT_VERSION})`,
      );
    }
    const len = head.getUint32(8, true);
    if (16 + len > buffer.byteLength || len > LIMITS.descriptorBytes)
      throw new ModelFormatError('grove container descriptor runs past the buffer');
    // Copy out of shared memory before decoding (TextDecoder refuses SharedArrayBuffer views).
    const bytes = new Uint8Array(len);
    bytes.set(new Uint8Array(buffer, 16, len));
    let descriptor: unknown;
    try {
      descriptor = JSON.parse(new TextDecoder().decode(bytes));
    } catch {
      throw new ModelFormatError('grove container descriptor is not valid JSON');
    }
    if (
      !isPlainObject(descriptor) ||
      typeof descriptor.kind !== 'string' ||
      !isPlainObject(descriptor.sections)
    )
      throw new ModelFormatError('grove container descriptor lacks its kind or sections');
    for (const [name, ref] of Object.entries(descriptor.sections)) {
      const ok =
        isPlainObject(ref) &&
        typeof ref.type === 'string' &&
        Object.hasOwn(CTORS, ref.type) &&
        Number.isSafeInteger(ref.offset) &&
        Number.isSafeInteger(ref.length) &&
        (ref.length as number) >= 0 &&
        (ref.offset as number) >= 16 + len &&
        (ref.offset as number) % ALIGN === 0 &&
        (ref.offset as number) + CTORS[ref.type as SectionType].BYTES_PER_ELEMENT * (ref.length as number) <=
          buffer.byteLength;
      if (!ok) throw new ModelFormatError(`grove container section ${fileText(name)} is out of bounds`);
    }
    this.descriptor = descriptor as unknown as Descriptor;
  }

  has(name: string): boolean {
    return Object.hasOwn(this.descriptor.sections, name);
  }

  f64(name: string): Float64Array {
    return this.view(name, 'f64') as Float64Array;
  }
  f32(name: string): Float32Array {
    return this.view(name, 'f32') as Float32Array;
  }
  i32(name: string): Int32Array {
    return this.view(name, 'i32') as Int32Array;
  }
  u32(name: string): Uint32Array {
    return this.view(name, 'u32') as Uint32Array;
  }
  u16(name: string): Uint16Array {
    return this.view(name, 'u16') as Uint16Array;
  }
  u8(name: string): Uint8Array {
    return this.view(name, 'u8') as Uint8Array;
  }

  private view(name: string, type: SectionType): SectionArray {
    const ref = Object.hasOwn(this.descriptor.sections, name) ? this.descriptor.sections[name] : undefined;
    if (!ref) throw new ModelFormatError(`grove container has no section '${name}'`);
    if (ref.type !== type)
      throw new ModelFormatError(`grove container section '${name}' is ${ref.type}, not ${type}`);
    const Ctor = CTORS[type] as unknown as new (b: ArrayBufferLike, o: number, n: number) => SectionArray;
    return new Ctor(this.buffer, ref.offset, ref.length);
  }
}

/**
 * A copy of a container without the sections `drop` names and the descriptor fields that describe
 * them (`dropFields`), its descriptor otherwise unchanged:
 * for a consumer that never reads them (an exported module does not explain, so it ships no
 * explain_* sections; docs/client.md).
 */
export function withoutSections(
  c: Container,
  drop: (name: string) => boolean,
  dropFields: readonly string[] = [],
): SharedArrayBuffer {
  const b = new ContainerBuilder();
  for (const [name, ref] of Object.entries(c.descriptor.sections)) {
    if (drop(name)) continue;
    const Ctor = CTORS[ref.type] as unknown as new (b: ArrayBufferLike, o: number, n: number) => SectionArray;
    b.add(name, new Ctor(c.buffer, ref.offset, ref.length));
  }
  const { sections: _sections, ...rest } = c.descriptor;
  for (const f of dropFields) delete rest[f];
  return b.build(rest);
}
