import numpy as np
import torch

from astrozoo.interfaces import FitContext, Split
from astrozoo.testing import RecordingRows
from astrozoo.vision import (ImageBatch, ImageClassifier, PlateauLR, Standardizer, augment, augmentation,
                             create_backbone)


def test_augment_keeps_shape_and_flux_without_rotation():
    x = torch.rand(16, 3, 24, 24)
    y = augment(x, flips=True)
    assert y.shape == x.shape
    torch.testing.assert_close(y.sum(dim=(1, 2, 3)), x.sum(dim=(1, 2, 3)))
    assert augment(x, flips=False, max_rotation=90, jitter=5).shape == x.shape


def test_augment_rot90_gives_all_eight_symmetries_of_the_square():
    torch.manual_seed(0)
    x = torch.arange(9.0).reshape(1, 1, 3, 3).repeat(400, 1, 1, 1)
    seen = {tuple(img.flatten().tolist()) for img in augment(x, flips=True, rot90=True)}
    square = x[0, 0]
    expected = set()
    for k in range(4):
        r = torch.rot90(square, k, (0, 1))
        expected |= {tuple(r.flatten().tolist()), tuple(r.flip(-1).flatten().tolist())}
    assert seen == expected and len(expected) == 8
    assert len({tuple(i.flatten().tolist()) for i in augment(x, flips=True)}) == 4  # flips alone: half of them


def test_standardizer_uses_training_statistics():
    rng = np.random.default_rng(0)
    train = rng.normal([[[[1.0]], [[5.0]]]], 2.0, size=(50, 2, 8, 8)).astype(np.float32)
    s = Standardizer().fit(train)
    out = s(train)
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(out.std(axis=(0, 2, 3)), 1, atol=1e-3)


def test_local_weights_file_is_loaded(tmp_path):
    source = create_backbone("resnet18", pretrained=False, num_classes=5)
    torch.save(source.state_dict(), tmp_path / "w.pt")
    loaded = create_backbone("resnet18", weights_file=str(tmp_path / "w.pt"), num_classes=2)
    torch.testing.assert_close(loaded.conv1.weight, source.conv1.weight)  # head differs: skipped


def test_plateau_lr_callback():
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    cb = PlateauLR(factor=0.5, patience=2)
    for value in [1.0, 1.1, 1.2, 1.3]:  # 2 epochs without a new best → halve, once
        cb.on_epoch_end(0, value, opt)
    assert opt.param_groups[0]["lr"] == 0.5


def test_image_classifier_learns_a_bright_square():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 160)
    images = rng.normal(size=(160, 1, 16, 16)).astype(np.float32)
    images[y == 1, :, 5:11, 5:11] += 2.0

    class Tiny(ImageClassifier):
        name, tasks = "tiny", ("test",)

        def build_network(self, in_chans, n_outputs, image_size):
            return torch.nn.Sequential(torch.nn.Conv2d(in_chans, 8, 3, padding=1), torch.nn.ReLU(),
                                       torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(8, n_outputs))

    train = Split("train", np.arange(120), y[:120], {"images": images[:120]})
    val = Split("val", np.arange(40), y[120:], {"images": lambda: images[120:]})
    model = Tiny(epochs=15, lr=1e-2, batch_size=32, monitor="accuracy").fit(train, val, FitContext())
    p = model.predict(val)
    assert p.shape == (40,) and ((p > 0.5) == y[120:]).mean() > 0.85


def test_augmentation_draws_now_and_applies_later_exactly_as_augment():
    x = torch.rand(8, 3, 12, 12)
    for options in ({"flips": True}, {"flips": True, "max_rotation": 90, "jitter": 2, "rot90": True}):
        torch.manual_seed(3)
        expected = augment(x, **options)
        torch.manual_seed(3)
        apply = augmentation(x.shape, x.device, **options)
        torch.rand(5)  # other draws in between do not matter: the batch's were made
        assert torch.equal(apply(x), expected)


def test_an_image_batch_is_read_only_when_moved_and_then_augmented():
    images = np.random.default_rng(0).random((20, 3, 6, 6)).astype(np.float32)
    rows = RecordingRows(images)
    torch.manual_seed(1)
    batch = ImageBatch(rows, torch.tensor([4, 17, 2]), "cpu", flips=True, max_rotation=30)
    assert rows.reads == []
    torch.manual_seed(1)
    expected = augment(torch.from_numpy(images[[4, 17, 2]]), flips=True, max_rotation=30)
    assert torch.equal(batch.to("cpu"), expected) and rows.reads == [3]
    assert torch.equal(ImageBatch(rows, [0, 1]).to("cpu"), torch.from_numpy(images[:2]))  # no options: as read


def test_standardizer_streams_a_lazy_column_to_the_same_numbers():
    rng = np.random.default_rng(2)
    for n, size in ((150, 16), (70, 40)):
        images = (rng.normal(0, 0.3, (n, 3, size, size)) + rng.random((n, 1, 1, 1))).astype(np.float32)
        rows = RecordingRows(images)
        streamed, whole = Standardizer().fit(rows, block=32), Standardizer().fit(images)
        assert np.array_equal(streamed.mean, whole.mean) and np.array_equal(streamed.std, whole.std)
        assert streamed.mean.dtype == streamed.std.dtype == np.float32 and streamed.mean.shape == (1, 3, 1, 1)
        assert max(rows.reads) == 32 and sum(rows.reads) == 2 * n  # two passes, 32 rows at a time
