"""M/M/1 in SimPy 3, the idiomatic way: a source process and one process per customer holding a
Resource of capacity 1. Part of `npm run bench:sim` (src/bench/sim.ts), which compares it with
Augur's engine on the same model.

Usage: /usr/bin/python3 bench/sim/mm1.py CUSTOMERS RATE_PER_MS MEAN_SERVICE_MS SEED
Prints one JSON object. `events` counts model events the way Augur's engine counts the events it
pops from its heap: one per arrival and one per service completion. `heapEvents` is every event
SimPy scheduled (its event id counter), for reference.
"""
import json
import random
import sys
import time

import simpy


def main():
    customers = int(sys.argv[1])
    rate = float(sys.argv[2])
    mean_service = float(sys.argv[3])
    rng = random.Random(int(sys.argv[4]))
    env = simpy.Environment()
    server = simpy.Resource(env, capacity=1)
    stats = {"arrivals": 0, "completions": 0, "sojourn": 0.0}

    def customer():
        arrived = env.now
        with server.request() as request:
            yield request
            yield env.timeout(rng.expovariate(1.0 / mean_service))
        stats["completions"] += 1
        stats["sojourn"] += env.now - arrived

    def source():
        for _ in range(customers):
            yield env.timeout(rng.expovariate(rate))
            stats["arrivals"] += 1
            env.process(customer())

    env.process(source())
    started = time.perf_counter()
    env.run()
    seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "simpy": simpy.__version__,
                "customers": customers,
                "events": stats["arrivals"] + stats["completions"],
                "heapEvents": int(repr(env._eid)[6:-1]),
                "seconds": seconds,
                "meanSojournMs": stats["sojourn"] / max(1, stats["completions"]),
            }
        )
    )


main()
