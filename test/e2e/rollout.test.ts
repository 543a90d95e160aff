import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../../src/core/random.js';
import { echoApplicationYaml, echoReleaseYaml } from '../../src/testing/echo-app.js';
import { Background, backgroundRuns, freePort, processesOf, traffic } from './helpers.js';

/** A one-service application on a free port, and a release of it, in a fresh directory. */
async function echoRelease(
  dir: string,
  canaryEnv: string,
): Promise<{ file: string; port: number; stateDir: string }> {
  const port = await freePort();
  const stateDir = join(dir, 'state');
  const file = join(dir, 'echo.yaml');
  writeFileSync(
    file,
    `${echoApplicationYaml({ stateDir, port })}---\n${echoReleaseYaml({
      name: 'echo-v2',
      env: canaryEnv,
      tiers: '[10, 50, 100]',
      bake: '{ minDuration: 1s, minRequests: 20 }',
      monitoring: '{ interval: 300ms, warningInterval: 100ms }',
    })}`,
  );
  return { file, port, stateDir };
}

describe('augur rollout --embedded (real processes)', () => {
  const { fresh, track } = backgroundRuns('augur-e2e-rollout-');

  it('promotes a healthy canary through every tier', async () => {
    const { file, port, stateDir } = await echoRelease(fresh(), 'VERSION: v2');
    const run = new Background(['rollout', '--embedded', file]);
    track(run);
    await run.waitFor(/tier 10%/);
    const load = traffic(port);
    const code = await run.exited;
    await load.stop();
    expect(run.output).toMatch(/GREEN echo v2: tier 10%/);
    expect(run.output).toMatch(/echo v2 is now stable/);
    expect(run.output).toMatch(/echo-v2: promoted/);
    expect(code).toBe(0);
    expect(processesOf(stateDir)).toEqual([]);
  }, 60_000);

  it('refuses, before starting anything, two releases that would change one service side by side', async () => {
    const { file, stateDir } = await echoRelease(fresh(), 'VERSION: v2');
    const twice = `${file}.twice.yaml`;
    writeFileSync(
      twice,
      echoReleaseYaml({ name: 'echo-v2-again', tiers: '[50, 100]', bake: '{ minDuration: 1s }' }),
    );
    const run = new Background(['rollout', '--embedded', file, twice]);
    track(run);
    expect(await run.exited).toBe(2);
    expect(run.output).toContain(
      'releases echo-v2 and echo-v2-again both change echo: roll them out one after the other',
    );
    expect(processesOf(stateDir)).toEqual([]);
  }, 30_000);

  it('rolls a failing canary back at its first tier', async () => {
    const { file, port } = await echoRelease(fresh(), "ERROR_RATE: '0.5'");
    const run = new Background(['rollout', '--embedded', file]);
    track(run);
    await run.waitFor(/tier 10%/);
    const load = traffic(port);
    const code = await run.exited;
    await load.stop();
    expect(run.output).toMatch(/RED echo v2/);
    expect(run.output).not.toMatch(/tier 50%/);
    expect(run.output).toMatch(/echo-v2: rolled-back/);
    expect(code).toBe(3);
  }, 60_000);

  it('survives SIGKILL at random points: every run resumes and ends promoted, no unrecorded weight', async () => {
    const random = new SeededRandom(20261127);
    const trials = Number(process.env.AUGUR_CRASH_TRIALS ?? 20);
    for (let trial = 0; trial < trials; trial++) {
      const { file, port, stateDir } = await echoRelease(fresh(), 'VERSION: v2');
      const first = new Background(['rollout', '--embedded', file]);
      track(first);
      await first.waitFor(/tier 10%/);
      const load = traffic(port);
      await sleep(200 + Math.floor(random.next() * 3000));
      first.child.kill('SIGKILL');
      await first.exited;

      // What the store says: the router's recorded weight must be one the release state knows.
      const db = new Database(join(stateDir, 'augur.db'), { readonly: true });
      const release = db.prepare("SELECT phase, state FROM releases WHERE name = 'echo-v2'").get() as
        { phase: string; state: string } | undefined;
      const traffic_ = db
        .prepare("SELECT canary_weight AS w, stable_revision AS s FROM traffic WHERE service = 'echo'")
        .get() as { w: number; s: string | null } | undefined;
      const events = db
        .prepare("SELECT sequence FROM release_events WHERE release = 'echo-v2' ORDER BY sequence")
        .all() as {
        sequence: number;
      }[];
      db.close();
      expect(events.map((e) => e.sequence)).toEqual(events.map((_, i) => i));
      if (release !== undefined && release.phase === 'running' && traffic_ !== undefined) {
        const track = (
          JSON.parse(release.state) as { tracks: { appliedWeight: number; targetWeight: number }[] }
        ).tracks[0];
        expect([track?.appliedWeight, track?.targetWeight, 0]).toContain(traffic_.w);
      }

      const second = new Background(['rollout', '--embedded', file]);
      track(second);
      const code = await second.exited;
      await load.stop();
      if (process.env.AUGUR_CRASH_DEBUG === '1') console.log(first.output, '\n----\n', second.output);
      expect(second.output, `trial ${trial}`).toMatch(/echo-v2: promoted/);
      expect(code).toBe(0);
      expect(processesOf(stateDir)).toEqual([]);
    }
  }, 600_000);
});
