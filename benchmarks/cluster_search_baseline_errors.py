"""Where the cluster-search baseline errs: its test confusion matrix and the clusters' recall per
quartile of M500, redshift and survey depth, from one run through the zoo's runner.

    python benchmarks/cluster_search_baseline_errors.py --band microwave --profile cpu

Runs go to a temporary MLflow store. Mock data: this says what the mock's clusters look like to
a dozen summary statistics, not what real ACT or WISE clusters do.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import warnings

import numpy as np
from sklearn.metrics import confusion_matrix


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--band", default="microwave", choices=("ir", "microwave"))
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--model", default="baseline")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{tempfile.mkdtemp(prefix='cs-errors-')}/mlflow.db"
    from astrozoo import runner

    dataset = f"mock-{args.band}"
    result, _ = runner.run("cluster-search", args.model, dataset=dataset, profile=args.profile, device="cpu",
                           echo=lambda *a, **k: None)
    test = result.splits["test"]
    pred = result.predictions["test"]
    y, y_hat = np.asarray(pred["y_true"]), np.asarray(pred["y_pred"])
    y_hat = y_hat.argmax(1) if y_hat.ndim == 2 else y_hat
    classes = list(test.data["classes"])
    print(f"{args.model} on {dataset} ({args.profile}): accuracy {np.mean(y == y_hat):.3f} on {len(y)} test cutouts")
    print("confusion (rows: true, columns: predicted):", classes)
    print(confusion_matrix(y, y_hat, labels=range(len(classes))))
    catalogue, cluster = test.data["catalogue"], y == classes.index("cluster")
    for key in ("m500", "z", "noise_scale"):
        values = np.asarray(catalogue[key])[cluster]
        edges = np.quantile(values, [0, 0.25, 0.5, 0.75, 1])
        recall = [np.mean(y_hat[cluster][(values >= lo) & (values <= hi)] == y[cluster][0])
                  for lo, hi in zip(edges[:-1], edges[1:])]
        print(f"cluster recall per quartile of {key}:",
              " | ".join(f"{lo:.3g}–{hi:.3g}: {r:.2f}" for lo, hi, r in zip(edges[:-1], edges[1:], recall)))


if __name__ == "__main__":
    main()
