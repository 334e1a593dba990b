"""`astrozoo compare` compares like with like: one table per dataset and profile, one row per
model and resolved recipe, overrides labelled, ceilings apart, run ids traceable."""

import csv
import io

import numpy as np

from astrozoo import compare, hookimpl, runner
from toy_plugin import Mean, load_toy


class Peek(Mean):
    """A ceiling: it reads the truth, and says so."""

    name, needs_truth = "peek", True

    def predict(self, split):
        return np.asarray(split.data["columns"]["y_true"])


class PeekPlugin:
    @staticmethod
    @hookimpl
    def register_models(register):
        register(Peek)


def test_compare_never_averages_unlike_runs(fresh_registry, monkeypatch, workdir):
    load_toy(monkeypatch, ("peek", PeekPlugin))
    quiet = dict(echo=lambda *a: None)
    ids = [runner.run("toy", "mean", seed=seed, **quiet)[1] for seed in (0, 1)]
    runner.run("toy", "mean", overrides=["params.shift=1.0"], **quiet)
    runner.run("toy", "mean", overrides=["data.noise=0.5"], **quiet)
    runner.run("toy", "peek", **quiet)

    found = compare.sections("toy")
    assert list(found) == [("toy-data", "quick", ""), ("toy-data", "quick", "data.noise=0.5")]
    plain, noisy = found.values()
    # line: the paper's number of its card (tests/toy_cards), no run of ours
    assert [r.label for r in plain] == ["mean", "mean [params.shift=1.0]", "line", "peek (ceiling)"]
    assert len(plain[0].runs) == 2 and plain[0].seeds == {"0", "1"} and plain[0].metrics["rmse"][1] is not None
    assert plain[1].metrics["rmse"][0] > plain[0].metrics["rmse"][0]  # the shifted mean is worse, not averaged in
    assert [r.label for r in noisy] == ["mean", "line"] and len(noisy[0].runs) == 1

    text = compare.render("toy")
    assert "## toy on toy-data [data.noise=0.5], profile quick" in text
    assert "| *ceilings (read the mock's truth)* |" in text
    assert text.index("| mean [params.shift=1.0] |") < text.index("| peek (ceiling) |")

    rows = list(csv.DictReader(io.StringIO(compare.render("toy", "csv"))))
    mean = next(r for r in rows if r["model"] == "mean" and not r["overrides"] and not r["data_overrides"])
    assert set(mean["run_ids"].split(";")) == set(ids) and mean["runs"] == "2"
    assert next(r for r in rows if r["model"] == "peek")["ceiling"] == "True"

    only = compare.sections("toy", where="params.`params.shift` = '1.0'")
    assert [r.label for rows in only.values() for r in rows] == ["mean [params.shift=1.0]", "line"]
