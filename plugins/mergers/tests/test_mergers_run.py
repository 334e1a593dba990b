"""One tiny run through the core runner: metrics, the paper's numbers in compare, the report's files."""

import mlflow
import numpy as np
import pytest
import torch

from astrozoo import compare, runner
from astrozoo.interfaces import FitContext
from astrozoo_mergers.models import MODELS, PaperCNN, PaperCNNResidual, paper_cnn
from astrozoo_mergers.task import METRICS

TINY_NET = ["params.filters=4", "params.kernels=[5, 3, 3]", "params.dense=[16, 8]", "params.epochs=2",
            "params.occlusion_stride=4", "params.occlusion_examples=2"]


def test_paper_network_has_the_described_layers():
    net = paper_cnn(1, 128)
    assert sum(p.numel() for p in net.parameters()) == 7_594_241  # Keras 'valid' padding on 128×128
    assert [m.kernel_size for m in net if isinstance(m, torch.nn.Conv2d)] == [(13, 13), (11, 11), (9, 9)]
    assert net(torch.zeros(2, 1, 128, 128)).shape == (2, 1)
    assert paper_cnn(1, 64, 8, (7, 6, 5))(torch.zeros(2, 1, 64, 64)).shape == (2, 1)
    with pytest.raises(Exception, match="too small"):
        paper_cnn(1, 64)
    assert {m.name for m in MODELS} == {"cnn-raw", "cnn-model", "cnn-residual", "resnet18", "oracle"}
    assert PaperCNNResidual().view == "residual" and PaperCNN().get_params()["lr"] == 3e-4
    with pytest.raises(Exception, match="view must be one of"):
        PaperCNN(view="colour")


def test_a_model_reads_its_own_view(cache, tiny):
    from astrozoo_mergers.dataset import MockHSC

    data = MockHSC(**tiny)
    train, val = data.load("train"), data.load("val")
    model = PaperCNNResidual(filters=4, kernels=[5, 3, 3], dense=[8, 8], epochs=1)
    model.fit(train, val, FitContext(seed=0))
    seen = model._viewed(val).data["images"]()
    np.testing.assert_array_equal(seen, val.data["views"]["residual"]())
    assert model.predict(val).shape == (len(val),)


def test_tiny_run_logs_the_papers_metrics_and_figures(workdir, tiny):
    overrides = TINY_NET + [f"data.{k}={v!r}".replace("'", '"') if isinstance(v, str) else f"data.{k}={v}"
                            for k, v in tiny.items()]
    result, run_id = runner.run("mergers", "cnn-raw", overrides=overrides, device="cpu", echo=lambda *a: None)
    assert set(METRICS) <= set(result.metrics) and "threshold" in result.metrics
    run = mlflow.get_run(run_id)
    for name in METRICS:
        assert f"test_{name}" in run.data.metrics
    artifacts = {a.path for a in mlflow.MlflowClient().list_artifacts(run_id, "plots")}
    for name in ("roc.png", "confusion_matrix.png", "metrics_vs_threshold.png", "metrics_per_redshift.png",
                 "merger_fraction_per_time.png", "ellipticity_bins.png", "examples.png", "occlusion.png",
                 "mergers_bins.json"):
        assert f"plots/{name}" in artifacts, name
    table = compare.render("mergers")
    assert "cnn-raw" in table and "(0.740)" in table and "(0.588)" in table  # the paper's numbers beside ours
    # the paper's Table 2 from the run's bootstrap tables, and the accuracy per redshift bin
    assert "### Table 2" in table and "(79.3 ± 0.6%)" in table and "Accuracy per redshift bin" in table
    table2 = table[table.index("### Table 2"):]
    assert next(line for line in table2.splitlines() if line.startswith("| cnn-raw")).count("±") >= 3


def test_oracle_reads_the_latent_truth_only(cache, tiny):
    from astrozoo.interfaces import Split
    from astrozoo_mergers.dataset import MockHSC
    from astrozoo_mergers.models import Oracle

    data = MockHSC(**tiny)
    train, test = data.load("train"), data.load("test")
    oracle = Oracle(n_estimators=20).fit(train, data.load("val"), FitContext(seed=0))
    p = oracle.predict(test)
    assert p.shape == (len(test),) and np.all((p >= 0) & (p <= 1))
    with pytest.raises(Exception, match="latent columns"):
        oracle.predict(Split("real", [1], [0], {"columns": {"redshift": np.array([0.3])}}))
