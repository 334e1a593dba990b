"""The paper's random-forest baselines (100 trees), an XGBoost baseline and the oracle ceiling.

Each is the same estimator on a different feature set (Table 2): SIMPLE (M*), MORPHOLOGICAL
(M*, R_petro, S, A — chosen by the paper with 5-fold cross-validation over the morphology
features; ``select = true`` repeats that selection with scikit-learn's SequentialFeatureSelector),
OVERDENSITY (M*, Δ_G), COMBINED (all five). The oracle sees the mock's latent truth
(central/satellite, host mass, depth in the host) and bounds what a model could reach.
Flagged statmorph fits are NaN; scikit-learn's forests handle missing values natively.
"""

from __future__ import annotations

import numpy as np
from sklearn.ensemble import RandomForestRegressor
from sklearn.feature_selection import SequentialFeatureSelector

from astrozoo.interfaces import FitContext, Model, Split
from astrozoo_halo_mass.features import MORPHOLOGY, feature_matrix


class Forest(Model):
    tasks = ("halo-mass",)
    features: tuple[str, ...] = ("log_mstar",)

    def __init__(self, n_estimators: int = 100, features=None, select: bool = False, n_select: int = 3,
                 min_samples_leaf: int = 1, n_jobs: int = -1):
        self.features = tuple(features or type(self).features)  # the class's feature set unless given
        self.options = dict(n_estimators=n_estimators, min_samples_leaf=min_samples_leaf, n_jobs=n_jobs)

    def estimator(self, seed: int):
        return RandomForestRegressor(random_state=seed, **self.options)

    def fit(self, train: Split, val: Split, context: FitContext) -> "Forest":
        if self.select:
            self.features = self._select(train, context)
        self.estimator_ = self.estimator(context.seed)
        self.estimator_.fit(feature_matrix(train, self.features), train.y)
        if context.tracker is not None:
            context.tracker.log_params({"model.features_used": ",".join(self.features)})
            context.tracker.log_metrics(dict(zip((f"importance_{f}" for f in self.features),
                                                 self.estimator_.feature_importances_)))
        return self

    def _select(self, train: Split, context: FitContext) -> tuple[str, ...]:
        """M* plus the n_select morphology features that 5-fold CV prefers (forward selection)."""
        X = feature_matrix(train, MORPHOLOGY)
        ok = np.isfinite(X).all(axis=1)
        base = feature_matrix(train, ("log_mstar",))
        selector = SequentialFeatureSelector(self.estimator(context.seed), n_features_to_select=self.n_select,
                                             cv=5, scoring="neg_mean_squared_error")
        selector.fit(np.column_stack([base[ok], X[ok]])[:, 1:], train.y[ok])
        return ("log_mstar",) + tuple(np.array(MORPHOLOGY)[selector.get_support()])

    def predict(self, split: Split) -> np.ndarray:
        return self.estimator_.predict(feature_matrix(split, self.features))

    def predict_std(self, split: Split) -> np.ndarray:
        """The spread of the trees' predictions: fully grown trees each predict about one training
        galaxy near this one, so their spread follows the scatter of M_halo at these features, as
        a quantile regression forest's does (Meinshausen 2006). The run calibrates it on the
        validation split (astrozoo.runner.calibrate)."""
        X = feature_matrix(split, self.features)
        return np.std([tree.predict(X) for tree in self.estimator_.estimators_], axis=0)


class Simple(Forest):
    name, description = "simple", "random forest on M* (Table 2 SIMPLE)"
    features = ("log_mstar",)


class Morphological(Forest):
    name, description = "morphological", "random forest on M*, R_petro, smoothness, asymmetry"
    features = ("log_mstar", "rpetro_circ", "smoothness", "asymmetry")


class Overdensity(Forest):
    name, description = "overdensity", "random forest on M* and Δ_G (neighbours within 3 Mpc)"
    features = ("log_mstar", "delta_g")


class Combined(Forest):
    name, description = "combined", "random forest on M*, R_petro, S, A and Δ_G"
    features = ("log_mstar", "rpetro_circ", "smoothness", "asymmetry", "delta_g")


class Oracle(Forest):
    name = "oracle"
    description = "ceiling: random forest on the mock's latent truth (central/satellite, host mass, r/R_vir)"
    needs_truth = True
    features = ("log_mstar", "is_central", "log_mhost", "r_over_rvir")


class XGBoost(Forest):
    name, description = "xgboost", "gradient-boosted trees on the combined features, early-stopped on validation"
    features = Combined.features

    def __init__(self, n_estimators: int = 500, learning_rate: float = 0.05, max_depth: int = 4,
                 early_stopping_rounds: int = 30, features=None):
        super().__init__(n_estimators=n_estimators, features=features)
        self.options = dict(n_estimators=n_estimators, learning_rate=learning_rate, max_depth=max_depth,
                            early_stopping_rounds=early_stopping_rounds)

    def predict_std(self, split: Split) -> None:
        return None  # one boosted model, no spread: the run's σ is a constant fitted on validation

    def estimator(self, seed: int):
        from xgboost import XGBRegressor

        return XGBRegressor(random_state=seed, n_jobs=2, **self.options)

    def fit(self, train: Split, val: Split, context: FitContext) -> "XGBoost":
        self.estimator_ = self.estimator(context.seed)
        self.estimator_.fit(feature_matrix(train, self.features), train.y,
                            eval_set=[(feature_matrix(val, self.features), val.y)], verbose=False)
        if context.tracker is not None:
            curve = self.estimator_.evals_result()["validation_0"]["rmse"]
            for step in range(0, len(curve), max(1, len(curve) // 50)):
                context.tracker.log_metrics({"val_rmse_curve": curve[step]}, step=step)
        return self


MODELS = [Simple, Morphological, Overdensity, Combined, Oracle, XGBoost]
