"""Kosiba et al. (2020): the custom CNN ('CN') and MobileNet ('MN') for X-CLASS candidates.

Both are :class:`astrozoo.vision.ImageClassifier` subclasses trained by the one training loop;
binary runs use one sigmoid output (equivalent to the paper's two-way softmax), multiclass runs
a K-way softmax. The paper's variants are registered as separate models, so that
``astrozoo compare cluster-candidates`` shows each as a row (Table 5):

- ``cnn`` / ``mobilenet`` — trained on expert labels with augmentation (CN-E / MN-E);
- ``cnn-noaug`` / ``mobilenet-noaug`` — without augmentation;
- ``cnn-xray`` / ``cnn-optical`` — only the X-ray (channel 2) or optical (channel 1) image;
- ``cnn-volunteer`` / ``mobilenet-volunteer`` — trained on the volunteers' weighted labels (CN-Z,
  MN-Z); their card sets ``data.labels = "volunteer"``;
- ``cnn-5class`` / ``mobilenet-5class`` — the five classes (Table 6); card: ``data.classes = "multiclass"``.
"""

from __future__ import annotations

import math
from typing import ClassVar

import torch.nn.functional as F
from torch import nn

from astrozoo.errors import AstrozooError
from astrozoo.vision import ImageClassifier, create_backbone

TASKS = ("cluster-candidates",)


class KosibaNet(nn.Sequential):
    """Six 3×3 'same' convolutions (64, 32, 32, 32, 32, 32), each followed by ReLU and a 2×2
    max pool (ceil mode, as the paper's 356 → 178 → 89 → 45 → 23 → 12 → 6), then dense 256,
    dropout and the output layer (Kosiba et al. 2020)."""

    def __init__(self, in_chans: int, n_outputs: int, image_size: int, filters=(64, 32, 32, 32, 32, 32),
                 dense: int = 256, dropout: float = 0.65):
        layers, channels, side = [], in_chans, image_size
        for f in filters:
            layers += [nn.Conv2d(channels, f, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2, ceil_mode=True)]
            channels, side = f, math.ceil(side / 2)
        super().__init__(*layers, nn.Flatten(), nn.Linear(channels * side * side, dense), nn.ReLU(inplace=True),
                         nn.Dropout(dropout), nn.Linear(dense, n_outputs))


class Resize(nn.Module):
    """Bilinear resize to ``size`` inside the network (MobileNet ran on 224×224 inputs)."""

    def __init__(self, size: int):
        super().__init__()
        self.size = size

    def forward(self, x):
        return F.interpolate(x, size=(self.size, self.size), mode="bilinear", align_corners=False, antialias=True)


class CandidateClassifier(ImageClassifier):
    """Shared by the variants: ``dropout`` before the output layer, ``input_size`` (resize first;
    0 keeps the cutout size) and ``requires``, the data a variant is meant for (checked when it is
    fitted). Each variant declares the parameters it changes in its own signature."""

    tasks = TASKS
    requires: ClassVar[dict] = {}

    def __init__(self, dropout: float = 0.65, input_size: int = 0, **kwargs):
        super().__init__(**kwargs)

    def fit(self, train, val, context):
        for key, wanted in self.requires.items():
            have = train.data.get(key)
            if have != wanted:
                raise AstrozooError(f"model {self.name!r} is meant for data.{key}={wanted!r} but the data has "
                                    f"{key}={have!r}; run it with its recipe card or --set data.{key}={wanted}")
        return super().fit(train, val, context)


class CustomCNN(CandidateClassifier):
    name = "cnn"
    description = "Kosiba et al. custom CNN (6 conv + dense 256), expert labels, augmentation (CN-E)"

    def __init__(self, backbone: str = "kosiba", pretrained: bool = False, optimizer: str = "sgd", lr: float = 1e-4,
                 batch_size: int = 10, plateau_patience: int = 14, plateau_factor: float = 0.75, **kwargs):
        super().__init__(backbone=backbone, pretrained=pretrained, optimizer=optimizer, lr=lr, batch_size=batch_size,
                         plateau_patience=plateau_patience, plateau_factor=plateau_factor, **kwargs)

    def build_network(self, in_chans, n_outputs, image_size):
        return KosibaNet(in_chans, n_outputs, image_size, dropout=self.dropout)


class MobileNet(CandidateClassifier):
    name = "mobilenet"
    description = "MobileNet (timm mobilenetv1_100) on 224×224 inputs, Adadelta, expert labels, augmentation (MN-E)"

    def __init__(self, input_size: int = 224, backbone: str = "mobilenetv1_100", optimizer: str = "adadelta",
                 lr: float = 1.0, batch_size: int = 20, plateau_patience: int = 4, plateau_factor: float = 0.85,
                 **kwargs):
        super().__init__(input_size=input_size, backbone=backbone, optimizer=optimizer, lr=lr, batch_size=batch_size,
                         plateau_patience=plateau_patience, plateau_factor=plateau_factor, **kwargs)

    def build_network(self, in_chans, n_outputs, image_size):
        net = create_backbone(self.backbone, self.pretrained, self.weights_file,
                              in_chans=in_chans, num_classes=n_outputs, drop_rate=self.dropout)
        size = self.input_size
        return nn.Sequential(Resize(size), net) if size and size != image_size else net


class CustomCNNNoAug(CustomCNN):
    name, description = "cnn-noaug", "custom CNN without augmentation (CN-E no augm.)"

    def __init__(self, flips: bool = False, max_rotation: float = 0.0, jitter: int = 0, **kwargs):
        super().__init__(flips=flips, max_rotation=max_rotation, jitter=jitter, **kwargs)


class CustomCNNXray(CustomCNN):
    name, description = "cnn-xray", "custom CNN on the X-ray channel only (CN-E solo X-ray)"

    def __init__(self, channels: list | None = (2,), **kwargs):
        super().__init__(channels=None if channels is None else list(channels), **kwargs)


class CustomCNNOptical(CustomCNN):
    name, description = "cnn-optical", "custom CNN on the optical channel only (CN-E solo optical)"

    def __init__(self, channels: list | None = (1,), **kwargs):
        super().__init__(channels=None if channels is None else list(channels), **kwargs)


class CustomCNNVolunteer(CustomCNN):
    name, description = "cnn-volunteer", "custom CNN trained on the volunteers' weighted labels (CN-Z)"
    requires = {"labels": "volunteer"}


class CustomCNN5(CustomCNN):
    name, description = "cnn-5class", "custom CNN, five classes, one-vs-all ROC (Table 6, CN)"
    requires = {"classes": "multiclass"}


class MobileNetNoAug(MobileNet):
    name, description = "mobilenet-noaug", "MobileNet without augmentation (MN-E no augm.)"

    def __init__(self, flips: bool = False, max_rotation: float = 0.0, jitter: int = 0, **kwargs):
        super().__init__(flips=flips, max_rotation=max_rotation, jitter=jitter, **kwargs)


class MobileNetVolunteer(MobileNet):
    name, description = "mobilenet-volunteer", "MobileNet trained on the volunteers' weighted labels (MN-Z)"
    requires = {"labels": "volunteer"}


class MobileNet5(MobileNet):
    name, description = "mobilenet-5class", "MobileNet, five classes, one-vs-all ROC (Table 6, MN)"
    requires = {"classes": "multiclass"}


MODELS = [CustomCNN, CustomCNNNoAug, CustomCNNXray, CustomCNNOptical, CustomCNNVolunteer, CustomCNN5,
          MobileNet, MobileNetNoAug, MobileNetVolunteer, MobileNet5]
