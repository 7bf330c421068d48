import { describe, expect, it } from 'vitest';
import { HeldBodies } from './held-bodies.js';

describe('HeldBodies: uploaded chunk bodies kept for this gateway’s claims', () => {
  it('gives back what the database was given, once', () => {
    const h = new HeldBodies(1000);
    const text = 'k1,ä😀,1\r\nk2,2\n';
    h.put('7', 0, Buffer.from(text, 'utf8'));
    const u8 = new Uint8Array(Buffer.from('k3,3\n'));
    h.put('7', 1, u8.subarray(0, 5));
    h.put('8', 0, 'k9,\uFFFD\n');
    expect(h.held()).toEqual({ jobIds: ['7', '7', '8'], seqs: [0, 1, 0] });
    expect(Buffer.from(h.take('7', 0) as Uint8Array).toString('utf8')).toBe(text);
    expect(h.take('7', 0)).toBeNull();
    expect(Buffer.from(h.take('7', 1) as Uint8Array).toString('utf8')).toBe('k3,3\n');
    expect(h.take('8', 0)).toBe('k9,\uFFFD\n');
    expect(h.held()).toBeNull();
    expect(h.heldBytes).toBe(0);
  });

  it('stays within its budget, the oldest out first; a body larger than it is not kept', () => {
    const h = new HeldBodies(100);
    h.put('1', 0, Buffer.alloc(40));
    h.put('1', 1, Buffer.alloc(40));
    h.put('1', 2, Buffer.alloc(40));
    expect(h.held()).toEqual({ jobIds: ['1', '1'], seqs: [1, 2] });
    expect(h.heldBytes).toBe(80);
    h.put('2', 0, Buffer.alloc(101));
    expect(h.size).toBe(2);
    // The same chunk again replaces its body rather than counting it twice.
    h.put('1', 2, Buffer.alloc(10));
    expect(h.heldBytes).toBe(50);
    expect(new HeldBodies(0).held()).toBeNull();
    const off = new HeldBodies(0);
    off.put('1', 0, 'x');
    expect(off.size).toBe(0);
  });

  it('lets go of bodies past their age, and of a job that ended', () => {
    let now = 1_000;
    const h = new HeldBodies(1000, 60_000, () => now);
    h.put('1', 0, 'a');
    now += 30_000;
    h.put('1', 1, 'b');
    h.put('2', 0, 'c');
    now += 30_000;
    h.expire();
    expect(h.held()).toEqual({ jobIds: ['1', '2'], seqs: [1, 0] });
    h.dropJob('1');
    expect(h.held()).toEqual({ jobIds: ['2'], seqs: [0] });
    now += 29_999;
    h.expire();
    expect(h.take('2', 0)).toEqual('c');
    expect(h.heldBytes).toBe(0);
  });
});
