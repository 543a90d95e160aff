"""A SimModel (Augur's simulation input, as JSON) run in SimPy 3 with Augur's semantics, written
the idiomatic SimPy way: one Resource per replica (capacity = the revision's concurrency), one
process per attempt holding its slot through its own work and its calls, `attempt | timeout` for
a caller that gives up, retries in a loop, parallel calls joined by an event that fails fast.
Part of `npm run bench:sim` (src/bench/sim.ts), which feeds it the shop model.

Usage: /usr/bin/python3 bench/sim/shop.py MODEL_JSON_FILE SEED
The model's timeoutMs is null for "never gives up". Prints one JSON object. `events` counts
model events as Augur's engine counts heap pops: arrivals, service completions and timeouts that
fired (a caller gave up); `heapEvents` is every event SimPy scheduled, for reference.
"""
import json
import math
import random
import sys
import time

import simpy


def main():
    with open(sys.argv[1]) as f:
        model = json.load(f)
    rng = random.Random(int(sys.argv[2]))
    env = simpy.Environment()
    counts = {"arrivals": 0, "completions": 0, "timeouts": 0, "entryErrors": 0}
    warmup = model["warmupMs"]
    end = warmup + model["durationMs"]
    latencies = []

    class Revision:
        def __init__(self, spec):
            self.share = spec["share"]
            self.replicas = [simpy.Resource(env, capacity=spec["concurrency"]) for _ in range(spec["replicas"])]
            self.turn = 0
            self.error = spec["errorProbability"]
            d = spec["serviceTime"]
            kind = d["kind"]
            if kind == "exponential":
                rate = 1.0 / d["meanMs"]
                self.sample = lambda: rng.expovariate(rate)
            elif kind == "lognormal":
                mu, sigma = math.log(d["medianMs"]), d["sigma"]
                self.sample = lambda: rng.lognormvariate(mu, sigma)
            elif kind == "empirical":
                values = d["samplesMs"]
                self.sample = lambda: rng.choice(values)
            else:
                ms = d["ms"]
                self.sample = lambda: ms

    services = []
    for spec in model["services"]:
        services.append(
            {
                "revisions": [Revision(r) for r in spec["revisions"]],
                "timeout": spec["timeoutMs"],
                "retries": spec["retries"],
                "calls": spec["calls"],
            }
        )

    def pick(revisions):
        if len(revisions) == 1:
            return revisions[0]
        u, cumulative = rng.random(), 0.0
        for revision in revisions:
            cumulative += revision.share
            if u < cumulative:
                return revision
        return revisions[-1]

    def all_ok(processes):
        """Succeeds with True when every call succeeded, with False at the first failure."""
        joined = env.event()
        remaining = [len(processes)]

        def settle(process):
            if joined.triggered:
                return
            if not process.value:
                joined.succeed(False)
            else:
                remaining[0] -= 1
                if remaining[0] == 0:
                    joined.succeed(True)

        for process in processes:
            process.callbacks.append(settle)
        return joined

    def attempt(s, mine):
        """One request at a replica of a revision of service s; returns whether it succeeded."""
        revision = pick(services[s]["revisions"])
        replica = revision.replicas[revision.turn]
        revision.turn = (revision.turn + 1) % len(revision.replicas)
        try:
            with replica.request() as slot:
                yield slot
                yield env.timeout(revision.sample())
                counts["completions"] += 1
                if revision.error > 0 and rng.random() < revision.error:
                    return False
                for call in services[s]["calls"]:
                    n = int(math.floor(call["perRequest"]))
                    fraction = call["perRequest"] - n
                    if fraction > 0 and rng.random() < fraction:
                        n += 1
                    if n == 0:
                        continue
                    if call["mode"] == "parallel":
                        ok = yield all_ok([env.process(make_call(call["service"], mine)) for _ in range(n)])
                    else:
                        for _ in range(n):
                            ok = yield env.process(make_call(call["service"], mine))
                            if not ok:
                                break
                    if not ok:
                        return False
                return True
        finally:
            mine["alive"] = False

    def make_call(s, caller):
        """A call with the callee's timeout and retries; `caller` is the calling attempt's state."""
        service = services[s]
        timeout = service["timeout"]
        for _ in range(service["retries"] + 1):
            process = env.process(attempt(s, {"alive": True}))
            if timeout is None:
                ok = yield process
            else:
                fired = yield process | env.timeout(timeout)
                if process in fired:
                    ok = process.value
                else:
                    if not caller["alive"]:
                        return False  # the caller has failed already: nobody is waiting
                    counts["timeouts"] += 1
                    ok = False
            if ok:
                return True
            if not caller["alive"]:
                return False
        return False

    def request():
        arrived = env.now
        ok = yield env.process(make_call(model["entrypoint"], {"alive": True}))
        if arrived >= warmup:
            latencies.append(env.now - arrived)
            if not ok:
                counts["entryErrors"] += 1

    rate = model["arrivals"]["ratePerSec"] / 1000.0

    def source():
        while True:
            yield env.timeout(rng.expovariate(rate))
            if env.now >= end:
                return
            counts["arrivals"] += 1
            env.process(request())

    env.process(source())
    started = time.perf_counter()
    env.run(until=end)
    seconds = time.perf_counter() - started
    latencies.sort()
    print(
        json.dumps(
            {
                "simpy": simpy.__version__,
                "requests": counts["arrivals"],
                "events": counts["arrivals"] + counts["completions"] + counts["timeouts"],
                "heapEvents": int(repr(env._eid)[6:-1]),
                "seconds": seconds,
                "entryMeanMs": sum(latencies) / max(1, len(latencies)),
                "entryP99Ms": latencies[int(0.99 * (len(latencies) - 1))] if latencies else 0,
                "entryErrors": counts["entryErrors"],
            }
        )
    )


main()
