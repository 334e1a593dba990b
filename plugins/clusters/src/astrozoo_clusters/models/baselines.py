"""Conventional cool-core classifications (Su et al. 2020, sec. 4), as Models of the same contract.

- ``density``: the central electron density n_e within 0.012 R500 (read from the simulation, as
  Su et al. and Barnes et al. 2018 do): CC > 0.015, WCC 0.005–0.015, NCC < 0.005 cm⁻³
  (Hudson et al. 2010; Barnes et al. 2018).
- ``concentration``: the surface-brightness concentration C_SB = S(< 40 kpc) / S(< 400 kpc)
  (Santos et al. 2008) measured on the image (background-subtracted counts in circular apertures
  about the cluster centre): CC > 0.155, WCC 0.075–0.155, NCC < 0.075 (Andrade-Santos et al. 2017;
  Barnes et al. 2018).
- ``concentration-rank``: Su et al.'s by-rank variant — sort by C_SB and give the top fraction CC,
  the next WCC, the rest NCC, with the class fractions of the training split; ``fit`` turns those
  fractions into the equivalent C_SB cuts, so a test object's class depends on it alone.

``predict`` returns one-hot class probabilities (CC, WCC, NCC).
"""

from __future__ import annotations

import numpy as np

from astrozoo.interfaces import FitContext, Model, Split
from astrozoo_clusters.coolcore.physics import aperture_fraction


def concentration(split: Split, inner_kpc: float = 40.0, outer_kpc: float = 400.0) -> np.ndarray:
    """C_SB of every image in the split (centre of the field, background subtracted)."""
    counts = split.data["counts"]
    counts = np.asarray(counts() if callable(counts) else counts, dtype=float)
    size, pix = counts.shape[-1], split.data["pixel_kpc"]
    centre = ((size - 1) / 2, (size - 1) / 2)
    net = counts - split.data["background_per_pixel"]
    inner = (net * aperture_fraction(size, centre, inner_kpc / pix)).sum(axis=(1, 2))
    outer = (net * aperture_fraction(size, centre, outer_kpc / pix)).sum(axis=(1, 2))
    return inner / np.maximum(outer, 1e-9)


def central_density(split: Split) -> np.ndarray:
    return np.asarray(split.data["columns"]["ne0"], dtype=float)


def one_hot(labels: np.ndarray, k: int = 3) -> np.ndarray:
    return np.eye(k)[labels]


class ThresholdBaseline(Model):
    """CC above ``cc_min``, NCC below ``ncc_max``, WCC between, on a statistic that grows with
    coolness. With ``by_rank``, ``fit`` replaces the two cuts by the training split's quantiles."""

    tasks = ("cool-core",)
    statistic_name = ""
    cuts = (0.0, 0.0)

    def __init__(self, cc_min: float | None = None, ncc_max: float | None = None, by_rank: bool = False):
        self.cc_min = self.cuts[0] if cc_min is None else cc_min
        self.ncc_max = self.cuts[1] if ncc_max is None else ncc_max

    def statistic(self, split: Split) -> np.ndarray:
        raise NotImplementedError

    def fit(self, train: Split, val: Split, context: FitContext) -> "ThresholdBaseline":
        if self.by_rank:
            stat = self.statistic(train)
            fractions = np.bincount(train.y, minlength=3) / len(train.y)
            self.cc_min = float(np.quantile(stat, 1 - fractions[0]))
            self.ncc_max = float(np.quantile(stat, fractions[2]))
        if context.tracker is not None:
            context.tracker.log_params({"model.cut_cc": self.cc_min, "model.cut_ncc": self.ncc_max})
        return self

    def predict(self, split: Split) -> np.ndarray:
        stat = self.statistic(split)
        labels = np.where(stat > self.cc_min, 0, np.where(stat >= self.ncc_max, 1, 2))
        return one_hot(labels)


class Density(ThresholdBaseline):
    name = "density"
    description = "central n_e within 0.012 R500: CC > 0.015, NCC < 0.005 cm^-3 (Su et al. 2020)"
    statistic_name, cuts = "n_e [cm^-3]", (0.015, 0.005)

    def statistic(self, split):
        return central_density(split)


class Concentration(ThresholdBaseline):
    name = "concentration"
    description = "C_SB = S(<40 kpc)/S(<400 kpc): CC > 0.155, NCC < 0.075 (Santos et al. 2008 thresholds)"
    statistic_name, cuts = "C_SB", (0.155, 0.075)

    def statistic(self, split):
        return concentration(split)


class ConcentrationRank(Concentration):
    name = "concentration-rank"
    description = "C_SB ranked, cut at the training split's CC / WCC / NCC fractions (Su et al. 2020)"

    def __init__(self, cc_min: float | None = None, ncc_max: float | None = None, by_rank: bool = True):
        super().__init__(cc_min, ncc_max, by_rank)


MODELS = [Density, Concentration, ConcentrationRank]
