// What the live view's banner says while a run goes: what the run is doing now, and the states
// beside it (the breaker's, the periods so far). Pure: the plan, the channel's events so far, the
// record so far and the time.
import type { EventOf, RunEvent } from '../channel/channel';
import type { RunPlan } from '../plan/resolve';
import type { RunRecord } from '../record/record';
import type { Running } from '../outputs/report/html';
import { fmtDuration } from '../outputs/report/format';

const last = <T extends RunEvent['type']>(events: RunEvent[], type: T) => {
  for (let i = events.length - 1; i >= 0; i--) if (events[i].type === type) return events[i] as EventOf<T>;
  return undefined;
};

/** One sentence: the stage of the run the events show, as of `now` (epoch ms). */
export function doingNow(plan: RunPlan, events: RunEvent[], now: number): string {
  const preflight = last(events, 'preflight');
  const abort = last(events, 'abort');
  const stop = last(events, 'capacity-stop');
  const ended = last(events, 'end');
  if (ended) return last(events, 'health-end') ? 'The load has ended: writing the record and the report.' : 'The load has ended: checking /health after it.';
  if (abort) return `The breaker stopped the load (${abort.reason}); ending it.`;
  if (stop) return `The capacity search ${stop.timeUp ? 'reached its time bound' : 'has its answer'}; ending the load.`;
  if (!preflight) return 'Starting Artillery, then checking /health and the API before the load.';
  if (preflight.verdict !== 'go') return `Not starting the load: ${preflight.message ?? `the preflight said ${preflight.verdict}`}.`;
  const phase = last(events, 'phase');
  const first = events.find((e): e is EventOf<'phase'> => e.type === 'phase');
  if (!phase || !first) return 'The target is healthy: starting the load.';
  const inLoad = Math.max(0, (now - first.at) / 1000);
  if (plan.profile.capacity) {
    const steps = events.filter((e): e is EventOf<'capacity-step'> => e.type === 'capacity-step').map((e) => e.step);
    const s = steps[steps.length - 1];
    if (!s) return `Capacity search: measuring its first step (${fmtDuration(inLoad)} into the load).`;
    const prediction = s.predicted ? `; predicted to break at about ${s.predicted.users} users (${s.predicted.gate})` : '';
    return `Capacity search: ${steps.length} step${steps.length === 1 ? '' : 's'} judged, the last at ${s.users} users ${s.verdict === 'held' ? 'held' : s.verdict === 'broken' ? 'broke' : 'hit the generator limit'}${prediction}; measuring the next.`;
  }
  // The stage as the pack planned it (phase names are Artillery's, one per stage).
  const stage = plan.stages[phase.index];
  const target = stage ? `, to ${stage.target} users over ${fmtDuration(stage.duration)}` : '';
  return `Stage ${phase.index + 1} of ${plan.stages.length}${target}: ${fmtDuration(inLoad)} of ${fmtDuration(plan.loadSeconds)} of load.`;
}

/** The breaker: off, armed (with the last window's error rate), or tripped. */
export function breakerNote(plan: RunPlan, record: RunRecord, events: RunEvent[]): Running['notes'][number] {
  const abort = last(events, 'abort');
  if (abort) return { key: 'breaker', state: 'tripped', text: `Breaker tripped: ${abort.reason}` };
  if (!plan.breaker) return { key: 'breaker', state: 'off', text: 'Breaker off' };
  const b = plan.budgets.breaker;
  // The last window's periods, as the record has them (the breaker itself judges per second).
  const periods = record.periods.slice(-Math.max(1, Math.ceil(b.windowSeconds / record.periodSeconds)));
  const requests = periods.reduce((n, p) => n + p.requests, 0);
  const errors = periods.reduce(
    (n, p) =>
      n +
      p.errors.transport +
      p.errors.timeout +
      p.errors.http4xx +
      p.errors.http5xx +
      p.errors.otherStatus +
      p.errors.notJson +
      p.errors.badBody +
      (plan.opts.count429 ? p.errors.rateLimited : 0),
    0,
  );
  const now = requests ? `; last ${fmtDuration(b.windowSeconds)}: ${((errors / requests) * 100).toFixed(1)} % errors` : '';
  return {
    key: 'breaker',
    state: 'armed',
    text: `Breaker armed: stops at > ${b.errorRatePct} % errors over ${fmtDuration(b.windowSeconds)} or a bad /health${now}`,
  };
}

/** The banner of a run still going. */
export function running(plan: RunPlan, record: RunRecord, events: RunEvent[], since: number, now: number): Running {
  const periods = record.periods.length;
  return {
    since,
    now,
    doing: doingNow(plan, events, now),
    notes: [
      breakerNote(plan, record, events),
      { key: 'periods', state: String(periods), text: `${periods} period${periods === 1 ? '' : 's'} of ${record.periodSeconds} s so far` },
    ],
  };
}
