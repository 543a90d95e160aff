import {
  AUGUR_HELD_INTERVAL_S,
  AUGUR_INTERVAL_S,
  BAKE_S,
  BASE_ERROR_RATE,
  BETA,
  ERROR_RATE_LIMIT,
  HELD_HORIZON_S,
  KAYENTA_STEP_S,
  LATENCY_LIMIT_FACTOR,
  MEDIAN_MS,
  PEER_INTERVAL_S,
  RATE,
  ROLLOUT_HORIZON_S,
  ROLLOUT_TIERS,
  latencyLimitMs,
} from './scenario.js';

/** The benchmark's world and every judge's configuration, written into the results. */
export function setup(): Record<string, unknown> {
  return {
    traffic: `${RATE} req/s, split per request by the judge's canary weight`,
    stable: `errors ${BASE_ERROR_RATE * 100}%, latency log-normal, median ${MEDIAN_MS} ms`,
    limits: {
      errorRate: ERROR_RATE_LIMIT,
      latencyP99Ms: `stable p99 × ${LATENCY_LIMIT_FACTOR}: ${latencyLimitMs(0.5).toFixed(1)} ms at σ 0.5, ${latencyLimitMs(1).toFixed(1)} ms at σ 1.0`,
    },
    plans: {
      held: `the canary stays at one share for ${HELD_HORIZON_S} s; only the rollback rules act`,
      rollout: `tiers ${ROLLOUT_TIERS.join(', ')}% with a ${BAKE_S} s bake; bad requests counted to ${ROLLOUT_HORIZON_S} s (a promoted canary serves everything)`,
    },
    oracle: `Wald SPRT at α 0.01, β ${BETA}, canary vs stable at the share in force (src/bench/detect/oracle.ts)`,
    judges: {
      augur: `decision core + sequentialAnalysis, interval ${AUGUR_INTERVAL_S} s (held tiers: ${AUGUR_HELD_INTERVAL_S} s), tiers as above (last two need "within limits" and errors shown not worse than the stable's), every weight confirmed at once`,
      'flagger-t1': `interval ${PEER_INTERVAL_S} s, 1-minute window: success rate ≥ ${100 * (1 - ERROR_RATE_LIMIT)}% and p99 ≤ limit; rollback when failedChecks ≥ 1; steps ${ROLLOUT_TIERS.filter((t) => t < 100).join(', ')}%, promote after the last`,
      'flagger-t5': 'as flagger-t1 with threshold 5',
      argo: `background analysis every ${PEER_INTERVAL_S} s (first after one interval), same conditions, failureLimit 0: the first failure aborts; setWeight + ${BAKE_S} s pause per step`,
      kayenta: `NetflixACAJudge every ${PEER_INTERVAL_S} s on ${KAYENTA_STEP_S} s data points since the start (error rate, mean latency; direction increase): Mann–Whitney 98% CI beyond 0.25 × |HL shift|, IQR×3 outliers removed; score ≤ 50 rolls back, ≥ 75 advances; baseline = as many stable requests as the canary got per step`,
    },
  };
}
