"""``astrozoo compare cluster-search`` prints the slides' network × band table (``Task.tables``)."""

import pytest

from astrozoo import registry, tracking
from astrozoo.testing import run_cli


@pytest.fixture
def store(workdir, monkeypatch):
    """astrozoo.testing's workdir (its own MLflow store) with cluster-search alone loaded."""
    monkeypatch.setenv("ASTROZOO_PLUGINS", "cluster-search")
    registry.reset()
    yield workdir
    registry.reset()


def log(model, dataset, accuracy, chosen_lr=None, profile="quick", inconclusive=False):
    """A finished run as the runner tags it; the numbers are made up for the table's layout."""
    tags = {"task": "cluster-search", "model": model, "dataset": dataset, "provenance": "mock",
            "profile": profile, "seed": "0"}
    with tracking.start_run("cluster-search", f"{model}-{dataset}", tags) as tracker:
        tracker.log_metrics({"test_accuracy": accuracy, **({"chosen_lr": chosen_lr} if chosen_lr else {})})
        if chosen_lr:
            tracker.log_params({"lr_range.inconclusive": inconclusive})


def compare(args, capsys):
    code, out, err = run_cli(["compare", "cluster-search", *args], capsys)
    assert code == 0, err
    return out


def test_compare_prints_the_network_by_band_table(store, capsys):
    log("cnn_mlp", "mock-ir", 0.61, 1.2e-3)
    log("cnn_mlp", "mock-microwave", 0.83, 4.5e-4)
    log("baseline", "mock-ir", 0.55)
    log("alexnet_vgg", "mock-microwave", 0.5, 1e-3, inconclusive=True)  # the card's lr, marked
    log("resnet18", "mock-ir", 0.99, 1e-2, profile="paper")  # another profile: left out below

    out = compare(["--profile", "quick"], capsys)
    assert out.index("## cluster-search on ") < out.index("per network and band")
    band_table = out[out.index("per network and band"):]
    lines = {line.split(" | ")[0].strip("| "): line for line in band_table.splitlines() if line.startswith("| ")}
    assert "| model | IR | microwave | chosen lr (IR) | chosen lr (microwave) |" in band_table
    assert lines["cnn_mlp"] == "| cnn_mlp | 0.610 (0.807) | 0.830 (0.836) | 0.0012 | 0.00045 |"
    assert lines["baseline"] == "| baseline | 0.550 (0.668) | — (0.648) | — | — |"
    assert lines["resnet18"] == "| resnet18 | — (0.568) | — (0.892) | — | — |"  # the paper's numbers only
    assert lines["alexnet_vgg"] == "| alexnet_vgg | — (0.905) | 0.500 (0.937) | — | 0.001 * |"
    assert "mobilenet" not in lines  # not in the paper's table, no run
    assert list(lines)[1:3] == ["cnn_mlp", "baseline"]  # ordered by our best accuracy

    one_band = compare(["--profile", "quick", "--dataset", "mock-microwave"], capsys)
    one_band = one_band[one_band.index("per network and band"):]
    assert "| model | microwave | chosen lr (microwave) |" in one_band
    assert "| cnn_mlp | 0.830 (0.836) | 0.00045 |" in one_band


def test_the_separate_table_command_is_gone(monkeypatch, capsys):
    monkeypatch.setenv("ASTROZOO_PLUGINS", "cluster-search")
    registry.reset()
    try:
        assert run_cli(["cluster-search-table"], capsys)[0] != 0
    finally:
        registry.reset()


def test_compare_reads_the_papers_numbers_of_one_band(store, capsys):
    ir = compare(["--dataset", "mock-ir"], capsys)
    microwave = compare(["--dataset", "mock-microwave"], capsys)
    first_row = lambda table: next(line for line in table.splitlines() if line.startswith("| resnet18 |"))  # noqa: E731
    assert "(0.568)" in first_row(ir) and "(0.892)" in first_row(microwave)  # the slides' accuracy per band
