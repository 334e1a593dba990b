"""The halo-mass table `astrozoo compare` appends (Task.tables): each model's distance to the
oracle, from the rows compare read."""

from types import SimpleNamespace

from astrozoo.compare import Row
from astrozoo_halo_mass.tables import tables
from astrozoo_halo_mass.task import TASK


def row(model, rmse, dataset="mock-tng50", start=1):
    run = SimpleNamespace(info=SimpleNamespace(run_id=f"{model}-{dataset}", start_time=start))
    return Row(model=model, dataset=dataset, profile="quick", runs=[run], seeds={"0"}, metrics={"rmse": (rmse, None)})


def test_distance_to_the_ceiling_on_the_default_dataset():
    assert TASK.tables is tables
    rows = [row("oracle", 0.20), row("gnn", 0.25), row("simple", 0.31),
            row("gnn", 0.90, dataset="mock-tng100", start=2)]  # newer, but not the default dataset
    text = tables(rows, "quick", None)
    assert "reaches RMSE 0.200" in text
    assert "| gnn | 0.250 | +0.050 |" in text and "| simple | 0.310 | +0.110 |" in text
    assert text.index("| gnn |") < text.index("| simple |") and "| oracle |" not in text
    assert "Ceiling: run `astrozoo run halo-mass --model oracle`" in tables(rows[1:3], "quick", None)
