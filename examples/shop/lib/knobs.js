/**
 * The fault knobs, read once from the environment at start. A malformed value stops the service
 * with a message naming the variable, rather than running with a silent default.
 */

const RATES = new Set(['ERROR_RATE', 'CORRUPTION_RATE']);

function numberVar(env, name, fallback) {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) {
    throw new Error(`${name} must be a non-negative number, got "${raw}"`);
  }
  if (RATES.has(name) && value > 1) throw new Error(`${name} is a probability in [0, 1], got "${raw}"`);
  return value;
}

/**
 * @param {string} service the service's name (used in messages and responses)
 * @param {{ WORK_MS?: number }} defaults per-service defaults
 */
export function readKnobs(service, defaults = {}, env = process.env) {
  const port = numberVar(env, 'PORT', NaN);
  if (!Number.isInteger(port) || port > 65535) throw new Error(`PORT must be set to a port number`);
  const workMs = numberVar(env, 'WORK_MS', defaults.WORK_MS ?? 1);
  const multiplier = numberVar(env, 'SERVICE_TIME_MULTIPLIER', 1);
  const limit = numberVar(env, 'CONCURRENCY_LIMIT', 0);
  if (!Number.isInteger(limit)) throw new Error(`CONCURRENCY_LIMIT must be a whole number`);
  return {
    service,
    port,
    version: env.VERSION ?? 'dev',
    // Per-request CPU time actually burnt: the knob the service time multiplier scales.
    cpuMs: workMs * multiplier,
    latencyMs: numberVar(env, 'LATENCY_MS', 0),
    jitterMs: numberVar(env, 'JITTER_MS', 0),
    errorRate: numberVar(env, 'ERROR_RATE', 0),
    concurrencyLimit: limit,
    memoryGrowthKb: numberVar(env, 'MEMORY_GROWTH_KB', 0),
    memoryGrowthMaxMb: numberVar(env, 'MEMORY_GROWTH_MAX_MB', 1024),
    corruptionRate: numberVar(env, 'CORRUPTION_RATE', 0),
    seed: numberVar(env, 'SEED', 1) + 7919 * numberVar(env, 'AUGUR_REPLICA', 0),
    callTimeoutMs: numberVar(env, 'CALL_TIMEOUT_MS', 2000),
    shutdownTimeoutMs: numberVar(env, 'SHUTDOWN_TIMEOUT_MS', 10000),
  };
}

/** `AUGUR_URL_<SERVICE>`: where a dependency is reached (Augur points it at the router's listener). */
export function dependencyVar(service) {
  return `AUGUR_URL_${service.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

export function dependencyUrl(service, env = process.env) {
  const name = dependencyVar(service);
  const raw = env[name];
  if (raw === undefined || raw === '') throw new Error(`${name} must say where ${service} listens`);
  try {
    return new URL(raw);
  } catch {
    throw new Error(`${name} is not a URL: "${raw}"`);
  }
}
