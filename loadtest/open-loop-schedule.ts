// The open-loop schedule (wrk2's): request i is due at t0 + i / rate and goes out when due,
// whatever has been answered, so a stalled server cannot slow the client down and hide its
// queueing (coordinated omission). Used by grove loadtest --rate and the overload benchmark.

/** Calls `fire(i, due)` for requests 0..total-1 as each falls due (`due` on performance.now()'s clock). */
export function runSchedule(
  rate: number,
  total: number,
  fire: (i: number, due: number) => void,
  stop: () => boolean = () => false,
): Promise<{ t0: number; endedAt: number }> {
  const t0 = performance.now();
  let sent = 0;
  return new Promise((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - t0) * rate) / 1000) + 1);
      for (; sent < due; sent++) fire(sent, t0 + (sent * 1000) / rate);
      if (sent >= total || stop()) resolve({ t0, endedAt: performance.now() });
      // 1 ms timers: requests due within the same millisecond go out together.
      else setTimeout(tick, 1);
    };
    tick();
  });
}
