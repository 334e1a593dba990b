"""Time to build the periodic 3 Mpc radius graph (and Δ_G) for the TNG50-, TNG100- and
TNG300-sized mocks, and how it grows with the number of galaxies.

    python benchmarks/graph_scaling.py [--radius 3] [--repeat 3]

Prints one line per box and the growth exponents d log(time) / d log(N) and d log(time) /
d log(E) (1 = linear). Times are CPU seconds of this process (``time.process_time``, best of
``--repeat``), so other jobs on the machine do not inflate them.
"""

import argparse
import time

import numpy as np

from astrozoo.data.graphs import count_neighbours, radius_graph
from astrozoo_halo_mass.mock import BOXES, generate_universe


def best_of(fn, repeat):
    times = []
    for _ in range(repeat):
        start = time.process_time()
        out = fn()
        times.append(time.process_time() - start)
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
        rows.append((len(pos), edges.shape[1], t_graph))
        print(f"{box:8s} {size:8.1f} {len(pos):9d} {edges.shape[1]:10d} {t_graph:10.3f} {t_count:9.3f} "
              f"{1e6 * t_graph / len(pos):10.2f}   (mock generated in {generated:.1f} s)")
    n, e, t = np.array(rows).T
    print(f"growth of graph time: exponent {np.polyfit(np.log(n), np.log(t), 1)[0]:.2f} in galaxies N, "
          f"{np.polyfit(np.log(e), np.log(t), 1)[0]:.2f} in edges E; edges per galaxy "
          + " → ".join(f"{x:.1f}" for x in e / n) + " (1.00 = linear)")


if __name__ == "__main__":
    main()
