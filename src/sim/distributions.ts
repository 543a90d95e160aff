import type { Random } from '../core/random.js';
import type { ServiceTimeDistribution } from './model.js';
import type { SimRandom } from './random.js';

/*
 * Exponential variates by Marsaglia and Tsang's ziggurat ("The Ziggurat Method for Generating
 * Random Variables", J. Stat. Softw. 5(8), 2000), 256 layers: one 32-bit draw, a table look-up
 * and a multiplication in ~98.9% of cases, instead of a logarithm (the engine draws two
 * exponentials per M/M/1 customer). The low 8 bits of the draw pick the layer and the high 24
 * bits the abscissa, so the two are independent (the original reuses the same bits for both).
 */
const ZIGGURAT_R = 7.69711747013105;
const ZIGGURAT_V = 3.949659822581572e-3;
const SCALE = 2 ** 24;
const ke = new Uint32Array(256);
const we = new Float64Array(256);
const fe = new Float64Array(256);
{
  let de = ZIGGURAT_R;
  let te = de;
  const q = ZIGGURAT_V / Math.exp(-de);
  ke[0] = Math.floor((de / q) * SCALE);
  ke[1] = 0;
  we[0] = q / SCALE;
  we[255] = de / SCALE;
  fe[0] = 1;
  fe[255] = Math.exp(-de);
  for (let i = 254; i >= 1; i--) {
    de = -Math.log(ZIGGURAT_V / de + Math.exp(-de));
    ke[i + 1] = Math.floor((de / te) * SCALE);
    te = de;
    fe[i] = Math.exp(-de);
    we[i] = de / SCALE;
  }
}

/** A standard exponential variate (mean 1). Small, so that V8 inlines it into the engine. */
export function standardExponential(random: SimRandom): number {
  const u = random.nextUint32();
  const i = u & 255;
  const j = u >>> 8;
  return j < (ke[i] as number) ? j * (we[i] as number) : outsideLayer(random, i, j);
}

/** The rare draws that do not fall inside a layer's rectangle: the tail or a wedge. */
function outsideLayer(random: SimRandom, layer: number, abscissa: number): number {
  let i = layer;
  let j = abscissa;
  for (;;) {
    // The base layer's overflow is the tail beyond R: R + Exp(1), by memorylessness.
    if (i === 0) return ZIGGURAT_R - Math.log(1 - random.next());
    const x = j * (we[i] as number);
    const low = fe[i] as number;
    if (low + random.next() * ((fe[i - 1] as number) - low) < Math.exp(-x)) return x;
    const u = random.nextUint32();
    i = u & 255;
    j = u >>> 8;
    if (j < (ke[i] as number)) return j * (we[i] as number);
  }
}

/** Exponential with the given mean. */
export function exponential(random: SimRandom, mean: number): number {
  return mean * standardExponential(random);
}

/**
 * Draws standard normals in pairs by the Box–Muller transform, keeping the second of each pair
 * for the next call: deterministic for a given generator and call order.
 */
export class NormalSource {
  private readonly random: Random;
  private spare = 0;
  private hasSpare = false;

  constructor(random: Random) {
    this.random = random;
  }

  next(): number {
    if (this.hasSpare) {
      this.hasSpare = false;
      return this.spare;
    }
    const u1 = 1 - this.random.next();
    const u2 = this.random.next();
    const radius = Math.sqrt(-2 * Math.log(u1));
    const angle = 2 * Math.PI * u2;
    this.spare = radius * Math.sin(angle);
    this.hasSpare = true;
    return radius * Math.cos(angle);
  }
}

const DETERMINISTIC = 0;
const EXPONENTIAL = 1;
const LOGNORMAL = 2;
const EMPIRICAL = 3;

/**
 * Samples one revision's service time. One class with a kind switch (not one class per kind), so
 * the engine's call site stays monomorphic.
 */
export class ServiceTimeSampler {
  private readonly kind: number;
  private readonly a: number;
  private readonly b: number;
  private readonly samples: Float64Array;
  private readonly normal: NormalSource;
  /** The revision's own stream: its service times and error draws. */
  readonly random: SimRandom;

  constructor(distribution: ServiceTimeDistribution, random: SimRandom) {
    this.random = random;
    this.normal = new NormalSource(random);
    this.samples = new Float64Array(0);
    this.b = 0;
    switch (distribution.kind) {
      case 'deterministic':
        this.kind = DETERMINISTIC;
        this.a = distribution.ms;
        break;
      case 'exponential':
        this.kind = EXPONENTIAL;
        this.a = distribution.meanMs;
        break;
      case 'lognormal':
        this.kind = LOGNORMAL;
        this.a = Math.log(distribution.medianMs);
        this.b = distribution.sigma;
        break;
      case 'empirical':
        this.kind = EMPIRICAL;
        this.a = distribution.samplesMs.length;
        this.samples = Float64Array.from(distribution.samplesMs);
        break;
    }
  }

  sample(): number {
    switch (this.kind) {
      case EXPONENTIAL:
        return this.a * standardExponential(this.random);
      case LOGNORMAL:
        return Math.exp(this.a + this.b * this.normal.next());
      case EMPIRICAL:
        return this.samples[Math.floor(this.random.next() * this.a)] as number;
      default:
        return this.a;
    }
  }
}

/** Mean of a service-time distribution (for sizing and reports). */
export function meanOf(distribution: ServiceTimeDistribution): number {
  switch (distribution.kind) {
    case 'deterministic':
      return distribution.ms;
    case 'exponential':
      return distribution.meanMs;
    case 'lognormal':
      return distribution.medianMs * Math.exp((distribution.sigma * distribution.sigma) / 2);
    case 'empirical':
      return distribution.samplesMs.reduce((s, x) => s + x, 0) / distribution.samplesMs.length;
  }
}
