"""The zoo members that need code: SpinalNet heads (on a VGG-like and a ResNet feature extractor),
an AlexNet/VGG-like CNN and a small CNN with an MLP head. Each is a :class:`ZooClassifier`
with its own ``build_network`` (so it trains with Adam at the range test's learning rate).
"""

from __future__ import annotations

import torch
from torch import nn

from astrozoo.vision import create_backbone
from astrozoo_cluster_search.models.zoo import ZooClassifier


def conv_block(c_in: int, c_out: int, n_convs: int = 1, kernel: int = 3) -> nn.Sequential:
    layers = []
    for i in range(n_convs):
        layers += [nn.Conv2d(c_in if i == 0 else c_out, c_out, kernel, padding=kernel // 2, bias=False),
                   nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)]
    return nn.Sequential(*layers, nn.MaxPool2d(2))


class VGGFeatures(nn.Module):
    """A small VGG (Simonyan & Zisserman 2015): four blocks of two 3×3 convolutions (with batch
    norm) and 2×2 max pooling, widths w, 2w, 4w, 8w, then average pooling to 2×2 → 32w features."""

    def __init__(self, in_chans: int, width: int = 32):
        super().__init__()
        widths = [width, 2 * width, 4 * width, 8 * width]
        blocks, c = [], in_chans
        for w in widths:
            blocks.append(conv_block(c, w, 2))
            c = w
        self.body = nn.Sequential(*blocks, nn.AdaptiveAvgPool2d(2), nn.Flatten())
        self.num_features = 4 * widths[-1]

    def forward(self, x):
        return self.body(x)


class SpinalHead(nn.Module):
    """SpinalNet fully connected head (Kabir et al. 2020, arXiv:2007.03347): the feature vector is
    split into halves; spinal layer 1 sees the first half, layer 2 the second half and layer 1's
    output, layer 3 the first half and layer 2's output, layer 4 the second half and layer 3's
    output (each dropout → linear → batch norm → ReLU); the output layer sees all four outputs."""

    def __init__(self, in_features: int, n_outputs: int, width: int = 128, n_layers: int = 4, dropout: float = 0.5):
        super().__init__()
        self.half = in_features // 2
        halves = [self.half, in_features - self.half]
        self.layers = nn.ModuleList([
            nn.Sequential(nn.Dropout(dropout), nn.Linear(halves[i % 2] + (width if i else 0), width),
                          nn.BatchNorm1d(width), nn.ReLU(inplace=True))
            for i in range(n_layers)])
        self.out = nn.Sequential(nn.Dropout(dropout), nn.Linear(width * n_layers, n_outputs))

    def forward(self, x):
        parts = (x[:, :self.half], x[:, self.half:])
        outputs, previous = [], None
        for i, layer in enumerate(self.layers):
            inp = parts[i % 2] if previous is None else torch.cat([parts[i % 2], previous], 1)
            previous = layer(inp)
            outputs.append(previous)
        return self.out(torch.cat(outputs, 1))


class FeaturesThenHead(nn.Module):
    def __init__(self, features: nn.Module, head: nn.Module):
        super().__init__()
        self.features, self.head = features, head

    def forward(self, x):
        return self.head(self.features(x))


class SpinalNetVGG(ZooClassifier):
    """SpinalNet head on a small VGG feature extractor (the paper's SpinalNet-VGG). ``width``
    sets the VGG widths (w, 2w, 4w, 8w), ``spinal_width`` the spinal layers' width."""

    name = "spinalnet_vgg"
    description = "SpinalNet head (Kabir et al. 2020) on a small VGG feature extractor"

    def __init__(self, width: int = 32, spinal_width: int = 128, dropout: float = 0.5, backbone: str = "vgg_small",
                 **kwargs):
        super().__init__(backbone=backbone, **kwargs)

    def extractor(self, in_chans: int) -> tuple[nn.Module, int]:
        features = VGGFeatures(in_chans, self.width)
        return features, features.num_features

    def build_network(self, in_chans, n_outputs, image_size):
        features, n = self.extractor(in_chans)
        net = FeaturesThenHead(features, SpinalHead(n, n_outputs, self.spinal_width, dropout=self.dropout))
        return self.resized(net, image_size)


class SpinalNetResNet(SpinalNetVGG):
    """SpinalNet head on a timm ResNet (``backbone``, default resnet18) feature extractor: the
    paper's SpinalNet+ResNet."""

    name = "spinalnet_resnet"
    description = "SpinalNet head (Kabir et al. 2020) on a ResNet-18 feature extractor (timm)"

    def __init__(self, backbone: str = "resnet18", **kwargs):
        super().__init__(backbone=backbone, **kwargs)

    def extractor(self, in_chans):
        net = create_backbone(self.backbone, self.pretrained, self.weights_file,
                              in_chans=in_chans, num_classes=0, **self.timm_kwargs)
        return net, net.num_features


class AlexNetVGG(ZooClassifier):
    """An AlexNet-like CNN with VGG-style 3×3 stacks (the paper's AlexNet-VGG): a 5×5 stem,
    then 3×3 convolutions in blocks of w, 2w, 4w (two convs), 8w (two convs), each with batch
    norm and max pooling, average pooling to ``pool`` × ``pool`` cells; dropout fully connected
    layers 512 → 256 → classes (Krizhevsky et al. 2012; Simonyan & Zisserman 2015). An odd
    ``pool`` keeps a cell of its own for the centre of the cutout, where the candidate is."""

    name = "alexnet_vgg"
    description = "AlexNet-like CNN with VGG-style 3×3 blocks and a dropout MLP (the paper's AlexNet-VGG)"

    def __init__(self, width: int = 32, dropout: float = 0.5, pool: int = 2, backbone: str = "alexnet_vgg",
                 **kwargs):
        super().__init__(backbone=backbone, **kwargs)

    def build_network(self, in_chans, n_outputs, image_size):
        w, d, p = self.width, self.dropout, self.pool
        net = nn.Sequential(
            conv_block(in_chans, w, 1, kernel=5), conv_block(w, 2 * w, 1), conv_block(2 * w, 4 * w, 2),
            conv_block(4 * w, 8 * w, 2), nn.AdaptiveAvgPool2d(p), nn.Flatten(),
            nn.Dropout(d), nn.Linear(8 * w * p * p, 512), nn.ReLU(inplace=True),
            nn.Dropout(d), nn.Linear(512, 256), nn.ReLU(inplace=True), nn.Linear(256, n_outputs))
        return self.resized(net, image_size)


class CNNMLP(ZooClassifier):
    """A small CNN (three conv blocks w, 2w, 4w, global average pooling) followed by an MLP
    (``hidden`` units, ReLU, dropout): the paper's CNN+MLP."""

    name = "cnn_mlp"
    description = "small CNN (3 conv blocks) + MLP head (the paper's CNN+MLP)"

    def __init__(self, width: int = 32, hidden: list | None = None, dropout: float = 0.3, backbone: str = "cnn_mlp",
                 **kwargs):
        self.hidden = list(hidden or [256, 128])
        super().__init__(backbone=backbone, **kwargs)

    def build_network(self, in_chans, n_outputs, image_size):
        w = self.width
        layers = [conv_block(in_chans, w, 2), conv_block(w, 2 * w, 2), conv_block(2 * w, 4 * w, 2),
                  nn.AdaptiveAvgPool2d(1), nn.Flatten()]
        c = 4 * w
        for h in self.hidden:
            layers += [nn.Linear(c, h), nn.ReLU(inplace=True), nn.Dropout(self.dropout)]
            c = h
        layers.append(nn.Linear(c, n_outputs))
        return self.resized(nn.Sequential(*layers), image_size)
