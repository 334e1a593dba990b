"""Time to build the periodic 3 Mpc radius graph (and Δ_G) for the TNG50-, TNG100- and
TNG300-sized mocks, and how it grows with the number of galaxies.

    python benchmarks/graph_scaling.py [--radius 3] [--repeat 3]

Prints one line per box and the growth exponent d log(time) / d log(N) (1 = linear).
"""

import argparse
import time

import numpy as np

from astrozoo.data.graphs import count_neighbours, radius_graph
from astrozoo_halo_mass.mock import BOXES, generate_universe


def best_of(fn, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return min(times), out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--radius", type=float, default=3.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rows = []
    print(f"{'box':8s} {'L [Mpc]':>8s} {'galaxies':>9s} {'edges':>10s} {'graph [s]':>10s} {'Δ_G [s]':>9s} {'µs/galaxy':>10s}")
    for box, size in BOXES.items():
        start = time.perf_counter()
        columns, _ = generate_universe(box, seed=0)
        generated = time.perf_counter() - start
        pos = columns["pos"]
        t_graph, (edges, _) = best_of(lambda: radius_graph(pos, args.radius, box=size), args.repeat)
        t_count, _ = best_of(lambda: count_neighbours(pos, args.radius, box=size), args.repeat)
        rows.append((len(pos), t_graph))
        print(f"{box:8s} {size:8.1f} {len(pos):9d} {edges.shape[1]:10d} {t_graph:10.3f} {t_count:9.3f} "
              f"{1e6 * t_graph / len(pos):10.2f}   (mock generated in {generated:.1f} s)")
    n, t = np.array(rows).T
    slope = np.polyfit(np.log(n), np.log(t), 1)[0]
    print(f"growth of graph time with N: exponent {slope:.2f} (1.00 = linear)")


if __name__ == "__main__":
    main()
