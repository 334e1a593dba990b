"""The cluster models on tiny synthetic splits (no MLflow): shapes, variants, CAMs."""

import numpy as np
import pytest
import torch

from astrozoo.errors import AstrozooError
from astrozoo.interfaces import FitContext, Split
from astrozoo_clusters.models.kosiba import CustomCNN, CustomCNN5, CustomCNNXray, KosibaNet, MobileNet
from astrozoo_clusters.models.resnet import CoolCoreResNet
from astrozoo_clusters.models.volunteers import UnweightedVote, VolunteerVote

TINY = dict(epochs=1, batch_size=16, optimizer="adam", lr=1e-3)


def synthetic(n=40, k=2, size=32, channels=3, seed=0, **data):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % k
    images = rng.random((n, channels, size, size)).astype(np.float32)
    images[:, -1, size // 3:2 * size // 3, size // 3:2 * size // 3] += (y / k)[:, None, None]
    return Split("train", np.arange(n), y, {"images": images, **data})


def test_kosiba_net_matches_the_paper_table():
    net = KosibaNet(3, 2, 356)
    dense = [m for m in net if isinstance(m, torch.nn.Linear)]
    assert dense[0].in_features == 6 * 6 * 32 and dense[0].out_features == 256  # flatten 6×6×32 = 1152
    assert [m.out_channels for m in net if isinstance(m, torch.nn.Conv2d)] == [64, 32, 32, 32, 32, 32]
    assert [m.p for m in net if isinstance(m, torch.nn.Dropout)] == [0.65]
    assert KosibaNet(3, 5, 64)(torch.zeros(2, 3, 64, 64)).shape == (2, 5)


def test_custom_cnn_binary_multiclass_and_channel_ablation():
    train, val = synthetic(classes="binary"), synthetic(seed=1, classes="binary")
    p = CustomCNN(**TINY).fit(train, val, FitContext()).predict(val)
    assert p.shape == (40,) and ((p >= 0) & (p <= 1)).all()
    five = synthetic(k=5, classes="multiclass")
    p5 = CustomCNN5(**TINY).fit(five, five, FitContext()).predict(five)
    assert p5.shape == (40, 5)
    np.testing.assert_allclose(p5.sum(axis=1), 1, rtol=1e-5)
    xray = CustomCNNXray(**TINY).fit(train, val, FitContext())
    assert xray.network[0].in_channels == 1 and xray.params["channels"] == [2]
    with pytest.raises(AstrozooError, match="meant for data.classes='multiclass'"):
        CustomCNN5(**TINY).fit(train, val, FitContext())


def test_mobilenet_resizes_inside_the_network():
    model = MobileNet(pretrained=False, input_size=48, **TINY)
    assert model.optimizer == "adam"  # given parameters override the class defaults
    assert MobileNet().get_params()["optimizer"] == "adadelta" and MobileNet().lr == 1.0
    net = model.build_network(3, 1, 32)
    assert net(torch.zeros(2, 3, 32, 32)).shape == (2, 1)
    assert type(net[0]).__name__ == "Resize" and net[0].size == 48


def test_resnet_replicates_the_image_and_maps_classes():
    train = synthetic(k=3, channels=1)
    model = CoolCoreResNet(pretrained=False, **TINY).fit(train, train, FitContext())
    assert model.network.conv1.in_channels == 3 and model.params["channels"] == [0, 0, 0]
    assert model.predict(train).shape == (40, 3)
    for layer in ("layer4", "layer2"):
        model.cam_layer = layer
        cams = model.class_activation_maps(train)
        assert cams.shape == (40, 3, 32, 32) and cams.min() >= 0 and cams.max() <= 1 + 1e-6
    with pytest.raises(AstrozooError, match="cam_layer"):
        CoolCoreResNet(cam_layer="fc")


def test_volunteer_vote_models():
    shares = {"weighted": np.array([[0.3, 0.3, 0.4, 0, 0], [0.1, 0, 0, 0.9, 0]]),
              "unweighted": np.array([[0.2, 0.2, 0.6, 0, 0], [0.1, 0, 0, 0.9, 0]])}
    split = Split("test", np.arange(2), np.array([1, 0]), {"volunteer_shares": shares, "classes": "binary"})
    np.testing.assert_allclose(VolunteerVote().fit(split, split, FitContext()).predict(split), [0.6, 0.1])
    np.testing.assert_allclose(UnweightedVote().predict(split), [0.4, 0.1])
    split.data["classes"] = "multiclass"
    assert VolunteerVote().predict(split).shape == (2, 5)
    with pytest.raises(AstrozooError, match="needs volunteer votes"):
        VolunteerVote().fit(Split("train", [0], [0], {}), split, FitContext())
