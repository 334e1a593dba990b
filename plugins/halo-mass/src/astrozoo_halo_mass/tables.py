"""The task's own table for ``astrozoo compare halo-mass`` (``Task.tables``): each model's distance
to the oracle, the ceiling, under Table 2. Built from the runs compare read (no query of its own)."""

from __future__ import annotations


def tables(rows: list, profile: str | None, dataset: str | None) -> str:
    """The oracle as the ceiling under Table 2: how far each model is from it."""
    from astrozoo import compare

    from astrozoo_halo_mass.task import TASK

    ours = compare.by_model(rows, prefer=TASK.default_dataset)  # on several datasets: the default's row
    if "oracle" not in ours or "rmse" not in ours["oracle"]:
        return ("Ceiling: run `astrozoo run halo-mass --model oracle` (a forest on the mock's latent truth) to see how "
                "well any model could do on these data.")
    ceiling = ours["oracle"]["rmse"][0]
    lines = [f"Ceiling: `oracle`, a random forest on the mock's latent truth (M*, central or satellite, host "
             f"mass, r/R_vir), reaches RMSE {ceiling:.3f}; no other model sees those. Distance to it:", "",
             "| model | RMSE | above the ceiling |", "|---|---|---|"]
    for model, row in sorted(ours.items(), key=lambda item: item[1].get("rmse", (9, 0))[0]):
        if model != "oracle" and "rmse" in row:
            lines.append(f"| {model} | {row['rmse'][0]:.3f} | +{row['rmse'][0] - ceiling:.3f} |")
    return "\n".join(lines)
