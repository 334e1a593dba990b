"""The baseline: multinomial logistic regression on a dozen summary statistics per channel.

Per channel (on the preprocessed cutout): mean inside 3 and 8 px of the centre, mean of the
annulus from 8 px to a third of the cutout and of the rest, the central maximum and minimum, the
image's standard deviation and skewness, the fraction of pixels above 2 and the number of local
maxima above 3 inside a third of the cutout; plus the central and annulus differences between the two channels (colours; the
tSZ spectrum). What a catalogue-level cut could see, without learning any spatial filter.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage, stats
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from astrozoo.interfaces import FitContext, Model, Split
from astrozoo.vision import images_of


def summary_features(images: np.ndarray) -> np.ndarray:
    n, c, h, w = images.shape
    yy, xx = np.mgrid[0:h, 0:w]
    r = np.hypot(xx - (w - 1) / 2, yy - (h - 1) / 2)
    edge = max(h, w) / 3  # 20 px at 64 px
    zones = [r < 3, r < 8, (r >= 8) & (r < edge), r >= edge]
    flat = images.reshape(n, c, -1)
    feats = [flat[:, :, z.ravel()].mean(-1) if z.any() else np.zeros((n, c)) for z in zones]
    inner = flat[:, :, (r < 8).ravel()]
    feats += [inner.max(-1), inner.min(-1), flat.std(-1), stats.skew(flat, axis=-1), (flat > 2).mean(-1)]
    peaks = ndimage.maximum_filter(images, size=(1, 1, 3, 3)) == images
    feats.append(((images > 3) & peaks & (r < edge)).reshape(n, c, -1).sum(-1))
    out = np.concatenate(feats, axis=1)
    if c >= 2:
        out = np.concatenate([out, feats[1][:, :1] - feats[1][:, 1:2], feats[2][:, :1] - feats[2][:, 1:2]], axis=1)
    return np.nan_to_num(out)


class Baseline(Model):
    """Logistic regression (scikit-learn, standardised features, L2 with strength ``C``) on
    :func:`summary_features`."""

    name = "baseline"
    tasks = ("cluster-search",)
    description = "logistic regression on per-channel summary statistics of the cutouts"

    def __init__(self, C: float = 1.0, max_iter: int = 2000):
        super().__init__()

    def fit(self, train: Split, val: Split, context: FitContext) -> "Baseline":
        self.pipeline = make_pipeline(StandardScaler(), LogisticRegression(C=self.C,
                                                                           max_iter=self.max_iter))
        self.pipeline.fit(summary_features(images_of(train)), train.y)
        return self

    def predict(self, split: Split) -> np.ndarray:
        return self.pipeline.predict_proba(summary_features(images_of(split)))
