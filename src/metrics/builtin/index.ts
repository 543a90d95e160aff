export { BuiltinMetrics, DEFAULT_RING_SECONDS, type BuiltinMetricsOptions } from './builtin-metrics.js';
export type { ProcessLister, ProcessRef, RevisionUsage } from './process-sampler.js';
export { ProcessSampler } from './process-sampler.js';
export {
  clockTicksPerSecond,
  pageSize,
  parseProcStat,
  procfs,
  readProcStat,
  readRssBytes,
  type ProcReader,
  type ProcStat,
} from './procfs.js';
export { decodeSketch, encodeSketch } from './sketch-codec.js';
