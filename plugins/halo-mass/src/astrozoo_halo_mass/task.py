"""The halo-mass task: predict log10 M_halo of galaxies; scored with the paper's seven metrics."""

from __future__ import annotations

from pathlib import Path

from astrozoo.interfaces import RunResult, Task

from astrozoo_halo_mass.tables import tables


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
