"""Table 2's forest ordering on the default mock, with morphology measured by statmorph on the
rendered images — the user's path, end to end (slow: statmorph on every galaxy is ~20 CPU-min
the first time; the images and measurements are cached in the user's data cache)."""

import pytest


@pytest.mark.slow
def test_forests_order_as_in_table2_and_oracle_is_the_ceiling(tmp_path, monkeypatch):
    from astrozoo import compare, runner

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    rmse, mae = {}, {}
    for model in ("simple", "morphological", "overdensity", "combined", "oracle"):
        result, _ = runner.run("halo-mass", model, echo=lambda *args: None)
        rmse[model], mae[model] = result.metrics["rmse"], result.metrics["mae"]
    for scores in (rmse, mae):
        assert scores["simple"] > max(scores["morphological"], scores["overdensity"])
        assert max(scores["morphological"], scores["overdensity"]) > scores["combined"] > scores["oracle"]
    table = compare.render("halo-mass")
    assert f"reaches RMSE {rmse['oracle']:.3f}" in table
    assert f"| combined | {rmse['combined']:.3f} | +{rmse['combined'] - rmse['oracle']:.3f} |" in table
