// Turns a profile's stages (k6-style concurrent users) into what Artillery runs: arrival phases plus
// a planned stay for every user, so the number of active users follows the stages. Pure functions:
// the runner, the processor (in every worker) and the report all derive the same plan from the stages.
import type { Stage } from '../catalog/config';
import { parseDurationSeconds } from '../common/duration';

/** One user's planned visit, in seconds from the start of the load. */
export interface Visit {
  arrive: number;
  leave: number;
}

interface ArtilleryPhase {
  name: string;
  duration?: string;
  arrivalCount?: number;
  pause?: string;
}

export function scaleStages(stages: Stage[], timeScale: number): Stage[] {
  return stages.map((s) => ({ duration: s.duration * timeScale, target: s.target }));
}

export function totalSeconds(stages: Stage[]): number {
  return stages.reduce((sum, s) => sum + s.duration, 0);
}

/**
 * Every user's arrival and departure. A rise from a to b over d brings users a+1..b at even steps
 * (the k-th at start + k*d/(b-a), as Artillery's arrivalCount does); a fall lets the newest users
 * leave first at even steps, as k6 does. Users still active at the end leave at the end.
 * Returned in arrival order, which is the order in which Artillery creates them.
 */
export function planVisits(stages: Stage[]): Visit[] {
  const visits: Visit[] = [];
  const active: Visit[] = [];
  let start = 0;
  let users = 0;
  for (const { duration, target } of stages) {
    const step = duration / Math.max(1, Math.abs(target - users));
    for (let k = 1; k <= target - users; k++) {
      const visit = { arrive: start + k * step, leave: Infinity };
      visits.push(visit);
      active.push(visit);
    }
    for (let k = 1; k <= users - target; k++) {
      const leaving = active.pop();
      if (leaving) leaving.leave = start + k * step;
    }
    users = target;
    start += duration;
  }
  for (const visit of active) visit.leave = start;
  return visits;
}

/** Artillery phases that create the users of planVisits at the right times. */
export function toPhases(stages: Stage[]): ArtilleryPhase[] {
  let users = 0;
  return stages.map((stage, i) => {
    const rise = stage.target - users;
    users = stage.target;
    // Durations as "<n>ms": Artillery reads a fractional number of seconds as milliseconds.
    const duration = `${Math.max(1, Math.round(stage.duration * 1000))}ms`;
    const name = `stage ${i + 1}: ${rise > 0 ? `+${rise}` : rise} users -> ${stage.target}`;
    return rise > 0 ? { name, duration, arrivalCount: rise } : { name, pause: duration };
  });
}

/** The users that Artillery phases bring: arrivalCount, or arrivalRate (ramping to rampTo) over the duration. */
export function arrivalsOf(phases: Array<Record<string, unknown>>): number {
  return phases.reduce((sum, p) => {
    if (p.arrivalCount !== undefined) return sum + Number(p.arrivalCount);
    const rate = Number(p.arrivalRate ?? 0);
    return sum + ((rate + Number(p.rampTo ?? rate)) / 2) * parseDurationSeconds((p.duration ?? 0) as number | string);
  }, 0);
}

/** Seconds that Artillery phases last: every phase's duration or pause. */
export function phasesSeconds(phases: Array<Record<string, unknown>>): number {
  return phases.reduce((sum, p) => sum + parseDurationSeconds((p.duration ?? p.pause ?? 0) as number | string), 0);
}

/** Planned active users at time t (seconds from the start of the load). */
export function plannedUsersAt(visits: Visit[], t: number): number {
  return visits.filter((v) => v.arrive <= t && t < v.leave).length;
}

export function maxUsers(stages: Stage[]): number {
  return Math.max(0, ...stages.map((s) => s.target));
}

/** Requests a run will send, estimated from the users' stays and the length of one journey. */
export interface RequestEstimate {
  journeys: number;
  /** Per endpoint name. */
  perEndpoint: Record<string, number>;
  /** Requests the backend's rate limiter counts (see config/contract.yml). */
  api: number;
  total: number;
}

/**
 * Each user repeats the journey (its requests, then the pause) for its whole stay. `latencyMs`
 * per endpoint is the expected answer time (the guide's p50 baseline is a fair guess).
 */
export function estimateRequests(
  visits: Visit[],
  thinkSeconds: number,
  endpoints: Array<{ name: string; latencyMs: number; rateLimited: boolean }>,
): RequestEstimate {
  const journeySeconds = thinkSeconds + endpoints.reduce((sum, e) => sum + e.latencyMs / 1000, 0);
  const journeys = visits.reduce((sum, v) => sum + Math.max(1, Math.ceil((v.leave - v.arrive) / journeySeconds)), 0);
  const perEndpoint = Object.fromEntries(endpoints.map((e) => [e.name, journeys]));
  const api = journeys * endpoints.filter((e) => e.rateLimited).length;
  return { journeys, perEndpoint, api, total: journeys * endpoints.length };
}
