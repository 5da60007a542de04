// Stand-ins a test file starts as it goes, all closed when its tests end.
import { after } from 'node:test';
import { startStandIn, type StandIn, type StandInOptions } from '../src/standin/server';

/** A starter of stand-ins (no latency, seed 1, unless the options say otherwise), closed after the file's tests. */
export function standInsClosedAfterTests(): (options?: StandInOptions) => Promise<StandIn> {
  const open: StandIn[] = [];
  after(async () => {
    await Promise.all(open.map((s) => s.close()));
  });
  return async (options = {}) => {
    const s = await startStandIn({ latencyScale: 0, seed: 1, ...options });
    open.push(s);
    return s;
  };
}
