// The breaker wired to Artillery's main-thread events: after each period it reports ('stats') and
// each /health check mid-run (from the first phase on), the breaker's decisions
// (src/record/breaker.ts) say whether to stop. Used by the pack's plugin and, on distributed
// workers, by processors/worker-breaker.ts.
import { afterHealth, afterPeriod, breakerStart, type BreakerLimits, type BreakerTrip } from '../record/breaker';
import { checkHealth } from '../checks/health';

export function watchBreaker(o: {
  /** Emits Artillery's 'stats' (each period) and 'phaseStarted'. */
  events: NodeJS.EventEmitter;
  limits: BreakerLimits;
  periodMs: number;
  /** The backend whose /health is checked mid-run; none: periods only. */
  target?: string;
  healthTimeoutMs: number;
  /** Called on each trip until stop(); the caller acts once. */
  onTrip: (trip: BreakerTrip) => void;
}): { stop: () => void } {
  let state = breakerStart();
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const trip = (t: BreakerTrip | undefined) => t && !stopped && o.onTrip(t);
  o.events.on('stats', (stats: { counters?: Record<string, number> }) => {
    if (stopped) return;
    const next = afterPeriod(state, stats.counters ?? {}, o.limits, o.periodMs);
    state = next.state;
    trip(next.trip);
  });
  const target = o.target;
  if (target) {
    o.events.once('phaseStarted', () => {
      if (stopped) return;
      timer = setInterval(() => void checkHealth(target, o.healthTimeoutMs).then((h) => trip(afterHealth(h))), o.limits.healthEverySeconds * 1000);
      timer.unref();
    });
  }
  return {
    stop: () => {
      stopped = true;
      clearInterval(timer);
    },
  };
}
