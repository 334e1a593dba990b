"""The zoo's networks, the range test inside fit, the baseline, the report figures."""

from pathlib import Path

import numpy as np
import pytest
import torch

from astrozoo.interfaces import FitContext, RunResult, Split
from astrozoo_cluster_search.dataset import MockIR
from astrozoo_cluster_search.models import AlexNetVGG, Baseline, CNNMLP, SpinalNetResNet, SpinalNetVGG, ZooClassifier
from astrozoo_cluster_search.models.baseline import summary_features
from astrozoo_cluster_search.models.networks import SpinalHead
from astrozoo_cluster_search.models.zoo import accepts_img_size
from astrozoo_cluster_search.task import TASK, probability_map


def test_spinal_head_feeds_both_halves_progressively():
    head = SpinalHead(10, 3, width=4).eval()
    x = torch.randn(2, 10, requires_grad=True)
    out = head(x)
    assert out.shape == (2, 3)
    out.sum().backward()
    assert (x.grad.abs().sum(0) > 0).all()  # every feature reaches the output
    assert head.layers[0][1].in_features == 5 and head.layers[1][1].in_features == 5 + 4


@pytest.mark.parametrize("cls,params", [(SpinalNetVGG, {"width": 4}), (SpinalNetResNet, {"pretrained": False}),
                                        (AlexNetVGG, {"width": 4}), (CNNMLP, {"width": 4}),
                                        (ZooClassifier, {"backbone": "resnet18", "pretrained": False, "input_size": 40})])
def test_networks_give_three_logits(cls, params):
    net = cls(**params).build_network(2, 3, 32).eval()
    with torch.no_grad():
        assert net(torch.randn(2, 2, 32, 32)).shape == (2, 3)


def test_fixed_size_networks_are_told_the_size():
    assert accepts_img_size("vit_tiny_patch16_224") and not accepts_img_size("resnet18")
    net = ZooClassifier(backbone="vit_tiny_patch16_224", pretrained=False).build_network(2, 3, 32).eval()
    with torch.no_grad():
        assert net(torch.randn(1, 2, 32, 32)).shape == (1, 3)


class Recorder:
    def __init__(self):
        self.params, self.metrics, self.artifacts = {}, {}, []

    def log_params(self, params):
        self.params.update(params)

    def log_metrics(self, metrics, step=None, timestamp=None):
        self.metrics.update(metrics)

    def log_artifact(self, path, folder=None):
        self.artifacts.append(f"{folder}/{Path(path).name}")


def toy_splits(n=72, size=24, seed=0):
    """A bright centre (class 1), a faint extended blob (class 0) or nothing (class 2) on noise."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    yy, xx = np.mgrid[0:size, 0:size] - (size - 1) / 2
    r2 = xx**2 + yy**2
    images = rng.normal(size=(n, 2, size, size)).astype(np.float32)
    images[y == 1] += 6 * np.exp(-r2 / 2).astype(np.float32)
    images[y == 0] += 1.5 * np.exp(-r2 / 30).astype(np.float32)
    cut = int(0.75 * n)
    return (Split("train", np.arange(cut), y[:cut], {"images": images[:cut]}),
            Split("val", np.arange(cut, n), y[cut:], {"images": images[cut:]}))


def test_fit_runs_the_range_test_and_logs_the_choice():
    train, val = toy_splits()
    tracker = Recorder()
    model = CNNMLP(width=4, epochs=2, batch_size=12, lr_start=1e-4, lr_end=1.0, lr_steps=12, max_rotation=0,
                   jitter=0)
    model.fit(train, val, FitContext(tracker=tracker))
    assert model.range_test is not None and len(model.range_test.lrs) > 3
    assert tracker.metrics["chosen_lr"] == tracker.params["lr_range.chosen_lr"] > 0
    assert "plots/lr_range_test.png" in tracker.artifacts
    p = model.predict(val)
    assert p.shape == (len(val), 3) and np.allclose(p.sum(1), 1, atol=1e-5)


def test_no_range_test_when_switched_off():
    train, val = toy_splits()
    model = CNNMLP(width=4, epochs=1, batch_size=12, lr_range=False).fit(train, val, FitContext())
    assert model.range_test is None


def test_baseline_learns_the_toy_problem():
    train, val = toy_splits(n=150)
    assert summary_features(train.data["images"]).shape[0] == len(train)
    model = Baseline().fit(train, val, FitContext())
    assert (model.predict(val).argmax(1) == val.y).mean() > 0.8


def test_report_draws_the_papers_figures(cache, tmp_path):
    data = MockIR(n_per_class=12, image_size=32, field_size=80)
    splits = {s: data.load(s) for s in ("train", "val", "test")}
    model = Baseline().fit(splits["train"], splits["val"], FitContext())
    test = splits["test"]
    probs, centres = probability_map(model, test.data["sky_field"]()[0], 32, stride=16)
    assert probs.shape == (len(centres), 3) and len(centres) == 16
    predictions = {"test": {"ids": test.ids, "y_true": test.y, "y_pred": model.predict(test)}}
    result = RunResult(task=TASK, model_name="baseline", config={"dataset": "mock-ir"}, metrics={},
                       predictions=predictions, splits=splits, model=model)
    paths = TASK.report(result, tmp_path)
    assert {p.name for p in paths} >= {"predicted_per_type.png", "probability_map.png"}
    import matplotlib.image as mpimg

    assert all(mpimg.imread(p).ndim == 3 for p in paths)  # each a PNG that decodes


def test_recall_figure_handles_perfect_and_empty_bins(tmp_path):
    import matplotlib.image as mpimg

    from astrozoo_cluster_search.figures import binned_recall, recall_by_redshift

    z = np.array([0.1, 0.15, 0.2, 1.4, 1.45])
    y_pred = np.tile([1.0, 0.0, 0.0], (5, 1))  # every cluster found: recall 1 in every bin
    bins = binned_recall(z, np.ones(5, bool), np.linspace(0.1, 1.5, 8))
    full = bins["n"] > 0
    assert np.all(bins["recall"][full] == 1) and np.all(np.isnan(bins["recall"][~full]))
    assert np.all(bins["hi"][full] <= 1 + 1e-12) and np.all(bins["lo"][full] < 1)  # Wilson: inside [0, 1]
    path = recall_by_redshift(z, np.full(5, 2e14), y_pred, tmp_path / "r.png")
    assert mpimg.imread(path).shape[:2] == (480, 1200)  # both panels drawn: 10×4 in at 120 dpi


def test_unknown_lr_rule_is_an_error():
    from astrozoo.errors import AstrozooError

    with pytest.raises(AstrozooError, match="unknown lr_rule 'valley'"):
        ZooClassifier(lr_rule="valley")


def test_precise_batchnorm_statistics():
    from astrozoo.vision import recalibrate_batchnorm

    bn = torch.nn.BatchNorm2d(2, momentum=0.1).eval()
    images = torch.randn(300, 2, 4, 4) * torch.tensor([1.0, 3.0]).view(1, 2, 1, 1) + torch.tensor([5.0, -2.0]).view(1, 2, 1, 1)
    recalibrate_batchnorm(bn, images, batch_size=60)  # equal batches: the average of batch means is the mean
    torch.testing.assert_close(bn.running_mean, images.mean((0, 2, 3)), rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(bn.running_var, images.var((0, 2, 3)), rtol=0.02, atol=1e-3)
    assert bn.momentum == 0.1 and not bn.training


def test_classifier_std_reinitialises_the_head():
    """timm's MobileNet/EfficientNet classifier init is U(±1/√3) for 3 classes; classifier_std sets N(0, std²)."""
    torch.manual_seed(0)
    timm_init = ZooClassifier(backbone="mobilenetv3_small_100", pretrained=False).build_network(2, 3, 32)
    assert timm_init.get_classifier().weight.std() > 0.2
    torch.manual_seed(0)
    small = ZooClassifier(backbone="mobilenetv3_small_100", pretrained=False, classifier_std=0.01,
                          input_size=40).build_network(2, 3, 32)
    head = small[1].get_classifier()  # behind the Resize
    assert 0.008 < float(head.weight.detach().std()) < 0.012 and float(head.bias.detach().abs().max()) == 0.0
    with torch.no_grad():
        logits = small.eval()(torch.randn(4, 2, 32, 32))
    assert float(logits.abs().max()) < 0.5  # the loss starts near ln 3
