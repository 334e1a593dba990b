"""Our `gnn` against the public reference GNN (benchmarks/reference_gnn.py) on the same data and split.

Both train on `mock-tng50` (the card's quick data section, the zoo's sub-volume split) for each seed and keep
their best-validation epoch. Ours is built and fitted through the zoo's API with the card's quick profile
(`astrozoo.create_model`, `--set`-style overrides with `--set key=value`) and predicts on the splits as
`astrozoo run` hands them over (`Split.for_prediction`: reading the truth raises). The reference is trained
with our recipe: standardised input and target, MSE, AdamW lr 1e-3 / weight decay 1e-4, one METIS cluster per
step (seeded), the card's epochs. Prints test RMSE, MAE and NMAD (mean ± std over seeds) side by side and a
paired bootstrap over the test galaxies of the seed-averaged RMSE and MAE differences (ours − reference).

    python benchmarks/halo_mass_gnn_vs_reference.py [--seeds 0 1 2] [--set context=false] [--models gnn reference]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch

import astrozoo
from astrozoo.interfaces import FitContext
from astrozoo.recipes import parse_override
from astrozoo.registry import get_registry
from astrozoo.training import fit

sys.path.insert(0, str(Path(__file__).parent))
from reference_gnn import EdgeInteractionGNN, reference_graph  # noqa: E402

METRICS = ("rmse", "mae", "nmad")


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def train_ours(splits, seed: int, overrides: dict, task) -> np.ndarray:
    seed_everything(seed)
    model = astrozoo.create_model("halo-mass", "gnn", profile="quick", **overrides)
    with torch.random.fork_rng():
        model.fit(splits["train"], splits["val"], FitContext(seed=seed))
    print(f"  best epoch {model.history.best_epoch}", end="")
    return tuple(model.predict(splits[name].for_prediction(task.truth, "gnn")) for name in ("val", "test"))


def train_reference(splits, seed: int, params: dict) -> np.ndarray:
    from astrozoo_halo_mass.models.common import torch_threads
    from astrozoo_halo_mass.models.gnn import ClusterBatches, metis_clusters

    seed_everything(seed)
    graphs = {name: reference_graph(s.data["pos"], s.data["columns"]["log_mstar"], s.y, params["radius"], s.data["box"])
              for name, s in splits.items()}
    net = EdgeInteractionGNN(3, params["hidden"], params["latent"], params["unshared"], params["aggr"])
    net.set_stats(splits["train"].data["columns"]["log_mstar"], splits["train"].y)
    g = graphs["train"]
    plain = g.edge_index[:, g.edge_index[0] != g.edge_index[1]].numpy()  # METIS without the self-loops
    batches = ClusterBatches(g, metis_clusters(plain, g.num_nodes, params["clusters"], seed), 1, seed)
    optimizer = torch.optim.AdamW(net.parameters(), lr=params["lr"], weight_decay=params["weight_decay"])

    def mse(b):
        return torch.nn.functional.mse_loss(net(b.mstar, b.edge_index, b.edge_attr)[:, 0], b.y)

    with torch_threads(1):
        history = fit(net, optimizer, batches=batches, loss=mse, validate=lambda: mse(graphs["val"]),
                      epochs=params["epochs"], context=FitContext(seed=seed), desc="reference",
                      generators=[batches.generator])
    print(f"  best epoch {history.best_epoch}", end="")
    net.eval()
    with torch.no_grad():
        return tuple(net(g.mstar, g.edge_index, g.edge_attr)[:, 0].numpy().astype(np.float64)
                     for g in (graphs["val"], graphs["test"]))


def bootstrap(y, a, b, n: int = 2000, seed: int = 0) -> dict:
    """Paired bootstrap over galaxies of metric(a) − metric(b); a and b are (seeds, N) predictions."""
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(y), size=(n, len(y)))
    out = {}
    for name, f in (("rmse", lambda e: np.sqrt(np.mean(e ** 2, axis=-1))), ("mae", lambda e: np.mean(np.abs(e), axis=-1))):
        diff = np.array([f(a[:, i] - y[i]).mean() - f(b[:, i] - y[i]).mean() for i in idx])
        point = f(a - y).mean() - f(b - y).mean()
        out[name] = (float(point), *map(float, np.percentile(diff, [2.5, 97.5])))
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--models", nargs="+", default=["gnn", "reference"], choices=["gnn", "reference"])
    parser.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                        help="an override of our gnn's quick-profile params (repeatable)")
    parser.add_argument("--reference-set", dest="ref_sets", action="append", default=[], metavar="KEY=VALUE",
                        help="reference sizes: hidden, latent, unshared, aggr (default: our card's)")
    parser.add_argument("--boot", type=int, default=2000)
    parser.add_argument("--output", type=Path, help="write the per-seed test predictions and metrics as JSON")
    args = parser.parse_args(argv)

    registry = get_registry()
    task = registry.task("halo-mass")
    recipe = registry.resolve("halo-mass", "gnn", "quick")
    overrides = {key: value for key, value in (parse_override(f"params.{s}")[1:] for s in args.sets)}
    ref_params = {**recipe.params, **{k: v for k, v in (parse_override(f"params.{s}")[1:] for s in args.ref_sets)}}
    data = astrozoo.load_dataset("halo-mass", **recipe.data)
    splits = {name: data.load(name) for name in ("train", "val", "test")}
    y = splits["test"].y
    print(f"mock-tng50 (data seed {recipe.data['seed']}): {', '.join(f'{n} {len(s)}' for n, s in splits.items())}; "
          f"gnn overrides {overrides or 'none'}; reference {ref_params['hidden']}/{ref_params['latent']} channels, "
          f"{ref_params['unshared']} unshared, aggr {ref_params['aggr']}, {ref_params['epochs']} epochs")

    preds: dict[str, list] = {m: [] for m in args.models}
    val_rmse: dict[str, list] = {m: [] for m in args.models}
    seconds: dict[str, list] = {m: [] for m in args.models}
    for seed in args.seeds:
        for m in args.models:
            print(f"seed {seed} {m}:", end="", flush=True)
            start = time.process_time()
            v, p = train_ours(splits, seed, overrides, task) if m == "gnn" else train_reference(splits, seed, ref_params)
            seconds[m].append(time.process_time() - start)
            preds[m].append(p)
            val_rmse[m].append(registry.metric("rmse")(splits["val"].y, v))
            print(f"  test RMSE {registry.metric('rmse')(y, p):.4f}  ({seconds[m][-1]:.0f} CPU s)")

    scores = {m: {k: [registry.metric(k)(y, p) for p in preds[m]] for k in METRICS} for m in args.models}
    print(f"\n| model ({len(args.seeds)} seeds {', '.join(map(str, args.seeds))}, best-validation epoch) | "
          + " | ".join(f"test {k.upper()}" for k in METRICS) + " | val RMSE | CPU s / fit |")
    print("|---|" + "---|" * (len(METRICS) + 2))
    for m in args.models:
        label = f"gnn {' '.join(args.sets)}".strip() if m == "gnn" else "reference (our recipe)"
        print(f"| {label} | " + " | ".join(f"{np.mean(v):.3f} ± {np.std(v):.3f}" for v in scores[m].values())
              + f" | {np.mean(val_rmse[m]):.3f} ± {np.std(val_rmse[m]):.3f} | {np.mean(seconds[m]):.0f} |")
    result = {"seeds": args.seeds, "overrides": args.sets, "reference": args.ref_sets, "scores": scores,
              "val_rmse": val_rmse,
              "cpu_seconds": seconds}
    if len(args.models) == 2:
        boot = bootstrap(y, np.array(preds["gnn"]), np.array(preds["reference"]), args.boot)
        result["bootstrap"] = boot
        print(f"\npaired bootstrap over the {len(y)} test galaxies ({args.boot} resamples), gnn − reference "
              "of the seed-averaged metric:")
        for name, (point, lo, hi) in boot.items():
            print(f"  Δ{name.upper()} = {point:+.4f}  (95%: {lo:+.4f} … {hi:+.4f})")
    if args.output:
        result["predictions"] = {m: [list(map(float, p)) for p in v] for m, v in preds.items()}
        result["y_true"] = list(map(float, y))
        args.output.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
