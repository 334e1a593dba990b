"""Ceilings: models that read the mock's latent truth, to say how much a model could learn.

``group-ceiling`` is a random forest on what a *perfect group finder* would give: M*, whether the galaxy is
its host's central, and its host's summed stellar mass and member count (counted over the whole catalogue:
the split's galaxies and the others in ``split.data["context"]``). A model that only learned group
membership would reach it; going below it needs more (positions within the group, stripping). The full
``oracle`` (:mod:`astrozoo_halo_mass.models.forests`) also sees the host mass and r/R_vir.
"""

from __future__ import annotations

import numpy as np

from astrozoo.interfaces import FitContext, Split
from astrozoo_halo_mass.models.forests import Forest

GROUP = ("log_mstar_group", "n_members")


def group_columns(split: Split) -> dict[str, np.ndarray]:
    """log10 of the summed M* and the number of catalogue galaxies of each galaxy's host (itself included)."""
    columns, others = split.data["columns"], split.data.get("context") or {}
    host = np.concatenate([columns["host_id"], others.get("host_id", np.zeros(0, np.int64))])
    mstar = 10 ** np.concatenate([columns["log_mstar"], others.get("log_mstar", np.zeros(0))])
    hosts, index = np.unique(host, return_inverse=True)
    total = np.bincount(index, weights=mstar, minlength=len(hosts))
    count = np.bincount(index, minlength=len(hosts))
    mine = index[:len(split)]
    return {"log_mstar_group": np.log10(total[mine]), "n_members": count[mine].astype(float)}


class GroupCeiling(Forest):
    name = "group-ceiling"
    description = "ceiling: random forest on a perfect group finder's output (M*, central flag, host's summed M*, members)"
    needs_truth = True
    features = ("log_mstar", "is_central") + GROUP

    def _with_groups(self, split: Split) -> Split:
        return split.with_data(columns={**split.data["columns"], **group_columns(split)})

    def fit(self, train: Split, val: Split, context: FitContext) -> "GroupCeiling":
        return super().fit(self._with_groups(train), self._with_groups(val), context)

    def predict(self, split: Split) -> np.ndarray:
        return super().predict(self._with_groups(split))

    def predict_std(self, split: Split) -> np.ndarray:
        return super().predict_std(self._with_groups(split))


MODELS = [GroupCeiling]
