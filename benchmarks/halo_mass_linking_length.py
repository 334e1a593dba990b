"""The linking-length study (Wu, Jespersen & Wechsler 2024, §5.3) on the halo-mass mock: the
GNN's graph radius (``params.radius``) and the overdensity forest's Δ_G radius (``data.radius``)
over a grid of linking lengths, each an ``astrozoo run --grid`` parent run with one child per
radius; one figure of the test RMSE and NMAD against the radius, and a markdown table.

    python benchmarks/halo_mass_linking_length.py --radii 0.5,1,2,3,5,8 --profile quick \\
        --out docs/img/halo-mass-linking-length.png

The same runs one at a time: ``astrozoo run halo-mass --model gnn --grid params.radius=0.5,1,2,3,5,8``
and ``astrozoo run halo-mass --model overdensity --grid data.radius=0.5,1,2,3,5,8``.
"""

from __future__ import annotations

import argparse

from astrozoo import runner
from astrozoo.plots import plt, save

STUDY = (("gnn", "params.radius", "GNN (graph radius)"), ("overdensity", "data.radius", "overdensity forest (Δ_G radius)"))
METRICS = ("rmse", "nmad", "coverage_68")


def history(run_id: str, metric: str) -> list[float]:
    import mlflow

    points = mlflow.MlflowClient().get_metric_history(run_id, f"test_{metric}")
    return [p.value for p in sorted(points, key=lambda p: p.step)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--radii", default="0.5,1,2,3,5,8")
    parser.add_argument("--profile", default="quick")
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--models", default="gnn,overdensity")
    parser.add_argument("--out", default="docs/img/halo-mass-linking-length.png")
    parser.add_argument("--parents", default="", help="redraw from finished grid runs: their parent run ids, "
                                                        "in the order of --models, instead of running")
    args = parser.parse_args()
    radii = [float(r) for r in args.radii.split(",")]
    results = {}
    parents = iter(args.parents.split(",")) if args.parents else None
    for model, key, label in STUDY:
        if model in args.models.split(","):
            parent = next(parents) if parents else runner.run_grid(
                "halo-mass", model, f"{key}={args.radii}", seeds=range(args.seeds), profile=args.profile)
            results[label] = {m: history(parent, m) for m in METRICS}
    fig, axes = plt.subplots(1, len(METRICS), figsize=(4.2 * len(METRICS), 3.6))
    for ax, metric in zip(axes, METRICS):
        for label, values in results.items():
            ax.plot(radii, values[metric], "o-", label=label)
        ax.axvline(3.0, color="k", ls=":", lw=1, label="paper: 3 Mpc")
        ax.set(xlabel="linking length [Mpc]", ylabel=f"test {metric}", xscale="log")
        ax.set_xticks(radii, [f"{r:g}" for r in radii])
        ax.minorticks_off()
    axes[0].legend(fontsize=8)
    save(fig, args.out)
    print(f"wrote {args.out}\n")
    print("| linking length [Mpc] | " + " | ".join(f"{label} {m}" for label in results for m in METRICS) + " |")
    print("|---" * (1 + len(results) * len(METRICS)) + "|")
    for i, r in enumerate(radii):
        print(f"| {r:g} | " + " | ".join(f"{results[label][m][i]:.4f}" for label in results for m in METRICS) + " |")


if __name__ == "__main__":
    main()
