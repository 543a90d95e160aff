/** Targets, checks and the printed table of bench:sim. */
export const TARGETS = { mm1EventsPerSec: 10e6, simpyRatio: 50, scaling2: 1.8, graph50Seconds: 10 } as const;

export interface Comparison {
  readonly eventsPerSec: number;
  readonly simpyEventsPerSec: number | null;
  readonly ratio: number | null;
}

export interface Check {
  readonly name: string;
  readonly pass: boolean;
  readonly detail: string;
}

/** 16.9 M, 331 k, 1.23. */
export function si(value: number | null): string {
  if (value === null || !Number.isFinite(value)) return 'n/a';
  if (value >= 1e6) return `${(value / 1e6).toFixed(2)} M`;
  if (value >= 1e3) return `${(value / 1e3).toFixed(1)} k`;
  return value.toFixed(2);
}

export function checks(
  mm1: Comparison,
  shop: Comparison,
  scaling2: number,
  graph50Seconds: number,
  simpyMissing: string | null,
): Check[] {
  const ratioCheck = (name: string, c: Comparison): Check => ({
    name: `${name}: Augur/SimPy events/s ≥ ${TARGETS.simpyRatio}`,
    pass: c.ratio !== null && c.ratio >= TARGETS.simpyRatio,
    detail: c.ratio === null ? `no SimPy figure (${simpyMissing ?? 'unknown'})` : `${c.ratio.toFixed(1)}×`,
  });
  return [
    {
      name: `mm1: events/s ≥ ${si(TARGETS.mm1EventsPerSec)}`,
      pass: mm1.eventsPerSec >= TARGETS.mm1EventsPerSec,
      detail: si(mm1.eventsPerSec),
    },
    ratioCheck('mm1', mm1),
    ratioCheck('shop', shop),
    {
      name: `scaling2: 2 workers / 1 worker ≥ ${TARGETS.scaling2}`,
      pass: scaling2 >= TARGETS.scaling2,
      detail: `${scaling2.toFixed(2)}×`,
    },
    {
      name: `graph50: 200 runs ≤ ${TARGETS.graph50Seconds} s`,
      pass: graph50Seconds <= TARGETS.graph50Seconds,
      detail: `${graph50Seconds.toFixed(2)} s`,
    },
  ];
}

export { table } from '../text-table.js';
