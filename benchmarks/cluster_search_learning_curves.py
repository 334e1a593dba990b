"""Learning curves of cluster-search: test (and train) accuracy against the number of training
cutouts, for the logistic-regression baseline and three networks, through the zoo's own runner
(``astrozoo.runner.run``: the cards' quick profile, ``--set data.n_per_class=N`` per point).

    python benchmarks/cluster_search_learning_curves.py --band ir --sizes 100,300,1200 \\
        --csv docs/img/cluster-search-curves-ir.csv
    python benchmarks/cluster_search_learning_curves.py --plot docs/img/cluster-search-curves-ir.csv

One row per (model, size) is appended to the CSV as soon as it is finished, with the run time,
the epochs, the range test's learning rate and the train accuracy (train ≈ test and both low:
the network has not learnt enough yet, more steps would help; train ≫ test: it overfits, more
cutouts would help). Runs go to a temporary MLflow store, not the working directory's.
``--plot CSV`` draws the figure (same name, .png) from a CSV; a run draws it at the end.

Models (``--models``): ``baseline``, ``cnn_mlp``, ``resnet18``, ``alexnet_vgg`` (the slides' best) and
``vit``, the vit_l16 card's
quick ViT made cheaper for CPU curves (4 blocks of width 96, 3 heads, on 6-px patches: 64 tokens
at 48 px).
``--max-size name=N`` skips a model's sizes above N (the ViT is the slowest).
"""

from __future__ import annotations

import argparse
import csv
import os
import tempfile
import time
from pathlib import Path

MODELS = {  # name in the CSV: (card, extra overrides)
    "baseline": ("baseline", []),
    "cnn_mlp": ("cnn_mlp", []),
    "resnet18": ("resnet18", []),
    "alexnet_vgg": ("alexnet_vgg", []),
    "vit": ("vit_l16", ["params.timm_kwargs={patch_size = 6, depth = 4, embed_dim = 96, num_heads = 3}"]),
}
FIELDS = ["band", "model", "card", "profile", "n_per_class", "n_train", "n_test", "test_accuracy",
          "train_accuracy", "epochs", "chosen_lr", "seconds", "overrides", "generator_version"]


def measure(band: str, name: str, n_per_class: int, profile: str, seed: int, extra: list[str]) -> dict:
    from astrozoo import runner
    from astrozoo.registry import get_registry
    from astrozoo_cluster_search.mock import VERSION

    card, overrides = MODELS[name]
    overrides = [*overrides, f"data.n_per_class={n_per_class}", *extra]
    start = time.perf_counter()
    result, _ = runner.run("cluster-search", card, dataset=f"mock-{band}", profile=profile, seed=seed,
                           overrides=overrides, device="cpu", echo=lambda *a, **k: None)
    seconds = time.perf_counter() - start
    score = get_registry().metric("accuracy")
    train = result.predictions["train"]
    test = result.predictions["test"]
    test_ = getattr(result.model, "range_test", None)
    history = getattr(result.model, "history", None)
    return {"band": band, "model": name, "card": card, "profile": profile, "n_per_class": n_per_class,
            "n_train": len(train["y_true"]), "n_test": len(test["y_true"]),
            "test_accuracy": round(float(result.metrics["accuracy"]), 4),
            "train_accuracy": round(float(score(train["y_true"], train["y_pred"])), 4),
            "epochs": len(history.val_loss) if history else "",
            "chosen_lr": f"{test_.chosen_lr:.3g}" if test_ is not None and test_.chosen_lr else "",
            "seconds": round(seconds, 1), "overrides": " ".join(overrides), "generator_version": VERSION}


def plot(csv_path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with open(csv_path) as fh:
        rows = list(csv.DictReader(fh))
    bands = sorted({r["band"] for r in rows})
    fig, axes = plt.subplots(1, len(bands), figsize=(5.2 * len(bands), 4), squeeze=False)
    for ax, band in zip(axes[0], bands):
        for model in MODELS:
            got = sorted((int(r["n_train"]), float(r["test_accuracy"]), float(r["train_accuracy"]))
                         for r in rows if r["band"] == band and r["model"] == model)
            if not got:
                continue
            n, test, train = zip(*got)
            colour = f"C{list(MODELS).index(model)}"
            ax.plot(n, test, marker="o", color=colour, label=f"{model} (test)", ls="--" if model == "baseline" else "-")
            ax.plot(n, train, ":", color=colour, alpha=0.6)
        ax.set_xscale("log")
        sizes = sorted({int(r["n_train"]) for r in rows if r["band"] == band})
        ax.set_xticks(sizes, [str(n) for n in sizes])
        ax.minorticks_off()
        ax.set_xlabel("training cutouts")
        ax.set_ylabel("accuracy (dotted: train)")
        version = {r["generator_version"] for r in rows if r["band"] == band}
        ax.set_title(f"mock-{band} (generator v{', '.join(sorted(version))}), quick profile")
        ax.axhline(1 / 3, color="grey", lw=0.5)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("cluster-search learning curves on the MOCK (not real WISE/ACT data)", fontsize=10)
    fig.tight_layout()
    out = csv_path.with_suffix(".png")
    fig.savefig(out, dpi=110)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--band", default="ir", choices=("ir", "microwave"))
    parser.add_argument("--sizes", default="100,300,1200", help="n_per_class values (train = 0.7 × 3 × n)")
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--max-size", action="append", default=[], help="model=N: skip its sizes above N")
    parser.add_argument("--profile", default="quick")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--set", action="append", default=[], help="an extra override for every run")
    parser.add_argument("--csv", type=Path, default=Path("docs/img/cluster-search-curves.csv"))
    parser.add_argument("--plot", type=Path, help="only draw the figure of this CSV")
    args = parser.parse_args()
    if args.plot:
        print(plot(args.plot))
        return
    limits = {k: int(v) for k, v in (item.split("=") for item in args.max_size)}
    os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{tempfile.mkdtemp(prefix='cs-curves-')}/mlflow.db"
    new = not args.csv.exists()
    with open(args.csv, "a", newline="") as fh:
        writer = csv.DictWriter(fh, FIELDS)
        if new:
            writer.writeheader()
        for size in (int(s) for s in args.sizes.split(",")):
            for name in args.models.split(","):
                if size > limits.get(name, size):
                    continue
                row = measure(args.band, name, size, args.profile, args.seed, args.set)
                writer.writerow(row)
                fh.flush()
                print(" ".join(f"{k}={row[k]}" for k in ("band", "model", "n_train", "test_accuracy",
                                                           "train_accuracy", "epochs", "chosen_lr", "seconds")),
                      flush=True)
    print(plot(args.csv))


if __name__ == "__main__":
    main()
