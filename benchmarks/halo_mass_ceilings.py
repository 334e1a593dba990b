"""The ladder of forests on `mock-tng50` that tells what the GNN's numbers mean (docs/tasks/halo-mass-models.md).

Each rung is the zoo's own model through its API, quick profile, the zoo's split, predicting on the test split as
`astrozoo run` hands it over (ceilings see the truth, the others cannot): M* alone (`simple`), M* and the
central/satellite flag (the `oracle` forest with `features=[log_mstar, is_central]`), a perfect group finder
(`group-ceiling`), the full latent truth (`oracle`). Test RMSE and MAE, mean ± std over seeds.

    python benchmarks/halo_mass_ceilings.py [--seeds 0 1 2]
"""

import argparse

import numpy as np

import astrozoo
from astrozoo.interfaces import FitContext
from astrozoo.registry import get_registry

RUNGS = [("simple", "simple", {}),
         ("M* + central flag", "oracle", {"features": ["log_mstar", "is_central"]}),
         ("group-ceiling", "group-ceiling", {}),
         ("oracle", "oracle", {})]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args(argv)
    registry = get_registry()
    task = registry.task("halo-mass")
    data = astrozoo.load_dataset("halo-mass", **registry.resolve("halo-mass", "simple", "quick").data)
    splits = {name: data.load(name) for name in ("train", "val", "test")}
    y = splits["test"].y
    print("| forest (quick, seeds " + ", ".join(map(str, args.seeds)) + ") | test RMSE | test MAE |\n|---|---|---|")
    for label, name, overrides in RUNGS:
        scores = []
        for seed in args.seeds:
            model = astrozoo.create_model("halo-mass", name, **overrides)
            model.fit(splits["train"], splits["val"], FitContext(seed=seed))
            test = splits["test"] if model.needs_truth else splits["test"].for_prediction(task.truth, name)
            p = model.predict(test)
            scores.append((registry.metric("rmse")(y, p), registry.metric("mae")(y, p)))
        rmse, mae = np.array(scores).T
        print(f"| {label} | {rmse.mean():.3f} ± {rmse.std():.3f} | {mae.mean():.3f} ± {mae.std():.3f} |")


if __name__ == "__main__":
    main()
