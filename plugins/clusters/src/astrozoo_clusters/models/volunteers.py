"""The volunteers themselves as a classifier, to compare them with the experts on the test split
(the paper's table of TP/TN/FP/FN, accuracy, precision and recall). Nothing is fitted; ``predict``
returns the share of the (weighted or unweighted) class votes — for binary data the share of
cluster votes (low-z + high-z), which is ≥ 0.5 exactly when the volunteers' label is 'cluster'."""

from __future__ import annotations

import numpy as np

from astrozoo.errors import AstrozooError
from astrozoo.interfaces import FitContext, Model, Split
from astrozoo_clusters.candidates.volunteers import cluster_probability


class VolunteerVote(Model):
    name = "volunteers"
    tasks = ("cluster-candidates",)
    description = "the simulated volunteers' G-weighted majority vote (Kosiba et al. 2020 sec. 2)"
    kind = "weighted"

    def fit(self, train: Split, val: Split, context: FitContext) -> "VolunteerVote":
        if "volunteer_shares" not in train.data:
            raise AstrozooError(f"model {self.name!r} needs volunteer votes, and this dataset has none")
        return self

    def predict(self, split: Split) -> np.ndarray:
        if "volunteer_shares" not in split.data:
            raise AstrozooError(f"model {self.name!r} needs volunteer votes, and split {split.name!r} has none")
        shares = split.data["volunteer_shares"][self.kind]
        return cluster_probability(shares) if split.data["classes"] == "binary" else shares


class UnweightedVote(VolunteerVote):
    name = "volunteers-unweighted"
    description = "the simulated volunteers' plain majority vote"
    kind = "unweighted"


MODELS = [VolunteerVote, UnweightedVote]
