"""Su et al. (2020): ResNet-18 on the X-ray image replicated to three channels, with class
activation maps.

``cam_layer = "layer4"`` (the paper's choice) gives the CAM of Zhou et al. (2016),
CAM_k(x, y) = Σ_c w_kc F_c(x, y), with F the last residual stage's features and w the final linear
layer's weights for class k; ResNet-18 downsamples by 32, so a 256-px image gives an 8×8 map.
An earlier stage (``"layer2"``, ``"layer3"``) gives Grad-CAM (Selvaraju et al. 2017): the
features weighted by the spatially averaged gradient of the class score — the same map for the
last stage, and the way to get an 8×8 map from the quick profile's 64-px images.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from astrozoo.interfaces import Split
from astrozoo.vision import ImageClassifier

CAM_LAYERS = ("layer1", "layer2", "layer3", "layer4")


class CoolCoreResNet(ImageClassifier):
    name = "resnet18"
    tasks = ("cool-core",)
    description = "ResNet-18 (timm) on the X-ray image replicated to 3 channels; CC / WCC / NCC; class activation maps"

    def __init__(self, backbone: str = "resnet18", channels: list | None = None, optimizer: str = "adamw",
                 lr: float = 1e-3, weight_decay: float = 1e-4, batch_size: int = 32, cam_layer: str = "layer4",
                 **kwargs):
        if cam_layer not in CAM_LAYERS:
            from astrozoo.errors import AstrozooError

            raise AstrozooError(f"params.cam_layer={cam_layer!r}: choose one of {', '.join(CAM_LAYERS)}")
        super().__init__(backbone=backbone, channels=[0, 0, 0] if channels is None else channels,
                         optimizer=optimizer, lr=lr, weight_decay=weight_decay, batch_size=batch_size, **kwargs)

    def class_activation_maps(self, split: Split, batch: int = 32) -> np.ndarray:
        """(N, K, H, W) maps, each rescaled to [0, 1], for every class k, at the input's size."""
        x = self._inputs(split)
        net = self.network.eval()
        maps = []
        for i in range(0, len(x), batch):
            xb = x[i:i + batch]
            cam = self._cam(net, xb) if self.cam_layer == "layer4" else self._grad_cam(net, xb)
            cam = F.interpolate(cam, size=x.shape[-2:], mode="bilinear", align_corners=False)
            lo = cam.amin(dim=(2, 3), keepdim=True)
            hi = cam.amax(dim=(2, 3), keepdim=True)
            maps.append(((cam - lo) / (hi - lo + 1e-12)).detach().numpy())
        return np.concatenate(maps)

    @staticmethod
    @torch.no_grad()
    def _cam(net, x):
        features = net.forward_features(x)  # (n, C, h, w)
        return torch.einsum("nchw,kc->nkhw", features, net.get_classifier().weight)

    def _grad_cam(self, net, x):
        store = {}
        hook = getattr(net, self.cam_layer).register_forward_hook(lambda m, i, out: store.update(a=out))
        try:
            with torch.enable_grad():
                logits = net(x)
                maps = []
                for k in range(logits.shape[1]):
                    grad, = torch.autograd.grad(logits[:, k].sum(), store["a"], retain_graph=True)
                    weights = grad.mean(dim=(2, 3), keepdim=True)
                    maps.append(F.relu((weights * store["a"]).sum(dim=1)))
        finally:
            hook.remove()
        return torch.stack(maps, dim=1).detach()


MODELS = [CoolCoreResNet]
