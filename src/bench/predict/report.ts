/** Targets, checks and printed tables of bench:predict. */

export const TARGETS = {
  coverage: [0.88, 0.92],
  worstSliceCoverage: 0.85,
  widthVsNaive: 0.5,
  shiftAci: 0.87,
} as const;

export interface Check {
  readonly name: string;
  readonly pass: boolean;
  readonly value: string;
  readonly target: string;
}

export interface Headline {
  readonly coverage90: number;
  readonly worstSliceCoverage: number;
  readonly worstSlice: string;
  readonly widthVsNaive: number;
  readonly shiftAci: number;
}

const fixed = (x: number, digits = 3): string => (Number.isFinite(x) ? x.toFixed(digits) : 'n/a');

export function checks(h: Headline): Check[] {
  const [low, high] = TARGETS.coverage;
  return [
    {
      name: 'coverage90 (held-out, ACI)',
      pass: h.coverage90 >= low && h.coverage90 <= high,
      value: fixed(h.coverage90),
      target: `in [${low}, ${high}]`,
    },
    {
      name: 'worstSliceCoverage (service × metric)',
      pass: h.worstSliceCoverage >= TARGETS.worstSliceCoverage,
      value: `${fixed(h.worstSliceCoverage)} (${h.worstSlice})`,
      target: `≥ ${TARGETS.worstSliceCoverage}`,
    },
    {
      name: 'widthVsNaive (mean of per-slice ratios)',
      pass: h.widthVsNaive <= TARGETS.widthVsNaive,
      value: fixed(h.widthVsNaive),
      target: `≤ ${TARGETS.widthVsNaive}`,
    },
    {
      name: 'shiftCoverage.aci (latency metrics)',
      pass: h.shiftAci >= TARGETS.shiftAci,
      value: fixed(h.shiftAci),
      target: `≥ ${TARGETS.shiftAci}`,
    },
  ];
}

export { table } from '../text-table.js';

export { fixed };
