"""The mock's ceiling: a random forest on the latent truth behind the images."""

from __future__ import annotations

import numpy as np

from astrozoo.errors import AstrozooError
from astrozoo.interfaces import Model, Split


class Oracle(Model):
    """The mock's ceiling: a random forest on the latent truth the images are made from — the
    projected separation of the companion, the tidal strength (how bright the merger features
    are) and the redshift (how well they can be seen) — never on the label's own ingredients
    (time, kind, stage). What no image model should beat on the mock; undefined on real data."""

    name = "oracle"
    needs_truth = True
    tasks = ("mergers",)
    description = "random forest on the mock's latent truth (companion separation, tidal strength, redshift): the ceiling"
    FEATURES = ("projected_kpc", "tidal_strength", "redshift")

    def __init__(self, n_estimators: int = 300, min_samples_leaf: int = 5):
        super().__init__()

    def _features(self, split: Split) -> np.ndarray:
        columns = split.data.get("columns", {})
        missing = [c for c in self.FEATURES if c not in columns]
        if missing:
            raise AstrozooError(f"model 'oracle' needs the mock's latent columns {', '.join(missing)}; "
                                "it has no meaning on real data")
        x = np.column_stack([np.asarray(columns[c], dtype=float) for c in self.FEATURES])
        x[:, 0] = np.where(np.isfinite(x[:, 0]), x[:, 0], 1e3)  # no companion: far away
        return np.nan_to_num(x)

    def fit(self, train: Split, val: Split, context) -> "Oracle":
        from sklearn.ensemble import RandomForestClassifier

        self.forest = RandomForestClassifier(self.n_estimators, min_samples_leaf=self.min_samples_leaf,
                                             random_state=context.seed, n_jobs=1)
        self.forest.fit(self._features(train), train.y)
        return self

    def predict(self, split: Split) -> np.ndarray:
        return self.forest.predict_proba(self._features(split))[:, 1]
