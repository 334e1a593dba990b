"""The paper's CNN (Jespersen et al., Section 3.4): an ImageNet ResNet18 (He et al. 2016) whose
last layer gives 100 features, concatenated with M* and read out by a 3-layer MLP.

AdamW, lr 5e-4, weight decay 1e-3, batch 64, 1000 epochs; augmentations (flips, rotation up to
90°, pad-5 random-crop jitter) applied to whole batches of tensors on the training device;
per-channel standardisation with training-set statistics, held as buffers of the network. The
images are read a batch at a time from the split's images (an array, or the dataset's lazy store
column): memory follows the batch size, not the split (TNG300: 214 GB of images), and under
several processes each reads only its own batches (:class:`astrozoo.vision.ImageBatch`).
"""

from __future__ import annotations

import torch
from torch import nn

from astrozoo.interfaces import FitContext, Split
from astrozoo.training import fit
from astrozoo.vision import ImageBatch, Standardizer, create_backbone, image_rows, read_images
from astrozoo_halo_mass.models.common import NeuralRegressor, Readout, check_loss, regression_loss, torch_threads


class ImageEncoder(nn.Module):
    """timm backbone with its classifier replaced by ``features`` outputs, on images
    standardised per channel with the training statistics."""

    def __init__(self, backbone: str = "resnet18", features: int = 100, pretrained: bool = True,
                 weights_file: str = "", in_chans: int = 3):
        super().__init__()
        self.backbone = create_backbone(backbone, pretrained, weights_file, in_chans=in_chans,
                                        num_classes=features)
        self.register_buffer("pixel_mean", torch.zeros(1, in_chans, 1, 1))
        self.register_buffer("pixel_std", torch.ones(1, in_chans, 1, 1))

    def set_stats(self, standardizer: Standardizer) -> "ImageEncoder":
        self.pixel_mean.copy_(torch.from_numpy(standardizer.mean))
        self.pixel_std.copy_(torch.from_numpy(standardizer.std))
        return self

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.backbone((images - self.pixel_mean) / self.pixel_std)

    def chunked(self, images, size: int = 128) -> torch.Tensor:
        """Features of many images (an array or a lazy column), read ``size`` at a time (for
        evaluation without gradients)."""
        device = self.pixel_mean.device
        return torch.cat([self(read_images(images, slice(i, i + size)).to(device))
                          for i in range(0, len(images), size)])


class HaloCNN(nn.Module):
    def __init__(self, encoder: ImageEncoder, features: int, hidden: int, n_out: int = 1):
        super().__init__()
        self.encoder = encoder
        self.readout = Readout(features, hidden, n_out)

    def forward(self, images, log_mstar, features: torch.Tensor | None = None):
        return self.readout(self.encoder(images) if features is None else features, log_mstar)


def image_batches(images, p: dict, generator: torch.Generator, device, *tensors):
    """One epoch of shuffled batches ``(images, *tensors)``: the images an :class:`ImageBatch`, read
    and augmented (draws made here, in batch order) when the loop moves it to ``device``."""
    order = torch.randperm(len(images), generator=generator)
    for i in range(0, len(order), p["batch_size"]):
        idx = order[i:i + p["batch_size"]]
        yield (ImageBatch(images, idx, device, flips=p["flips"], max_rotation=p["max_rotation"], jitter=p["jitter"]),
               *(t[idx.to(device)] for t in tensors))


class CNN(NeuralRegressor):
    name = "cnn"
    description = "ResNet18 on gri images (→ 100 features) + M* → 3-layer MLP (the paper's CNN)"

    def __init__(self, backbone: str = "resnet18", pretrained: bool = True, weights_file: str = "",
                 features: int = 100, hidden: int = 64, epochs: int = 1000, batch_size: int = 64,
                 lr: float = 5e-4, weight_decay: float = 1e-3, flips: bool = True,
                 max_rotation: float = 90.0, jitter: int = 5, loss: str = "mse", patience: int = 0,
                 threads: int = 0):
        super().__init__()
        self.n_out = check_loss(loss)
        self.net, self.history = None, None

    def fit(self, train: Split, val: Split, context: FitContext) -> "CNN":
        with torch_threads(self.params["threads"] if context.device == "cpu" else 0):
            return self._fit(train, val, context)

    def _fit(self, train: Split, val: Split, context: FitContext) -> "CNN":
        p, device = self.params, torch.device(context.device)
        images, v_images = image_rows(train), image_rows(val)
        encoder = ImageEncoder(p["backbone"], p["features"], p["pretrained"], p["weights_file"], images.shape[1])
        self.net = net = HaloCNN(encoder.set_stats(Standardizer().fit(images)), p["features"], p["hidden"], self.n_out)
        net.readout.set_stats(train.data["columns"]["log_mstar"], train.y)
        mstar, y = (torch.as_tensor(a).float().to(device) for a in (train.data["columns"]["log_mstar"], train.y))
        v_mstar, v_y = (torch.as_tensor(a).float().to(device) for a in (val.data["columns"]["log_mstar"], val.y))
        optimizer = torch.optim.AdamW(net.parameters(), lr=p["lr"], weight_decay=p["weight_decay"])
        generator = torch.Generator().manual_seed(context.seed)

        self.history = fit(
            net, optimizer, batches=lambda: image_batches(images, p, generator, device, mstar, y),
            loss=lambda b: regression_loss(net(b[0], b[1]), b[2], p["loss"]),
            validate=lambda: regression_loss(net(None, v_mstar, net.encoder.chunked(v_images)), v_y, p["loss"]),
            epochs=p["epochs"], context=context, patience=p["patience"] or None, desc=self.name,
            generators=[generator])
        self.net.to("cpu").eval()
        return self

    def _outputs(self, split: Split) -> torch.Tensor:
        mstar = torch.as_tensor(split.data["columns"]["log_mstar"]).float()
        return self.net(None, mstar, self.net.encoder.chunked(image_rows(split)))


MODELS = [CNN]
