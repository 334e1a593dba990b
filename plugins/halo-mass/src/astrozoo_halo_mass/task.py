"""The halo-mass task: predict log10 M_halo of galaxies; scored with the paper's seven metrics."""

from __future__ import annotations

from pathlib import Path

from astrozoo.interfaces import RunResult, Task


def _figures():
    """astrozoo_halo_mass.figures (matplotlib), imported when a run is scored or drawn, not at start-up."""
    from astrozoo_halo_mass import figures

    return figures


def report(result: RunResult, outdir: Path) -> list[Path]:
    test = result.predictions["test"]
    log_mstar = result.splits["test"].data["columns"]["log_mstar"]
    return [
        _figures().split_figure(result.splits, outdir / "fig1_split.png"),
        _figures().predicted_vs_true(test["y_true"], test["y_pred"], log_mstar, outdir / "fig2_predicted_vs_true.png",
                          title=f"{result.model_name} (test)"),
    ]


def tables(rows: list, profile: str | None, dataset: str | None) -> str:
    """The oracle as the ceiling under Table 2: how far each model is from it."""
    from astrozoo import compare

    ours = compare.by_model(rows, prefer=TASK.default_dataset)
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


TASK = Task(
    name="halo-mass",
    target="log10 M_halo [Msun]: bound dark-matter mass of the galaxy's (sub)halo",
    default_dataset="mock-tng50",
    metrics=("mse", "mae", "rmse", "r2", "bias", "nmad", "f_outlier"),
    primary_metric="rmse",
    kind="regression",
    inputs=("columns: galaxy_id, pos, log_mstar, delta_g", "pos", "box", "radius", "morphology()", "images()"),
    truth=("log_mhalo", "is_central", "host_id", "log_mhost", "r_host", "r_over_rvir", "log_macc", "strip_factor"),
    description="Halo masses from stellar mass, morphology, images and environment (TNG50; Table 2)",
    report=report,
    tables=tables,
)
