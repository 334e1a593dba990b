"""Simulated Zooniverse volunteers (The Hunt for Galaxy Clusters) and their weighted-majority labels.

**Weighting** (Kosiba et al. 2020, sec. 2): every answer of volunteer v to question i is weighted by
G_vi = C_vi / Q_vi, where Q_vi is the number of answers v gave to question i and C_vi the number
of those that agree with the (unweighted) majority answer of the object they were given for.
An object's label for question i is the answer with the largest summed weight.

**Simulation.** Each object is classified by ``votes_per_object`` volunteers (30 in the paper;
1227 volunteers for 1600 objects), drawn in proportion to a heavy-tailed activity. Each volunteer
has a skill s (Beta(5, 2.5); 12 % careless volunteers with s < 0.2) and a conservatism κ
(U(0.7, 0.95)): the probability that, when unsure, they pick a non-cluster answer. An answer is
right with probability s × ease, where the ease of an object falls for high-z clusters (no optical
counterpart to confirm them), artefacts and faint sources; a wrong answer is a non-cluster class
with probability κ. This reproduces the paper's pattern — volunteers' cluster samples are pure but
incomplete. Two questions are asked: 0 = the class (5 answers, the data set's class order),
1 = 'is the X-ray emission extended?' (no / yes).
"""

from __future__ import annotations

import numpy as np

from astrozoo_clusters.candidates.conventions import CLUSTER_CLASSES

N_CLASSES = 5
QUESTIONS = ("class", "extended")
EASE = np.array([0.95, 0.55, 0.85, 0.9, 0.7])  # low-z, hi-z, galaxy, point, other


def simulate_votes(expert_class: np.ndarray, counts: np.ndarray, seed: int, votes_per_object: int = 30,
                   n_volunteers: int | None = None) -> tuple[dict, dict]:
    """(votes table {object, volunteer, question, answer}, volunteer table {skill, conservatism})."""
    rng = np.random.default_rng(seed)
    n = len(expert_class)
    n_vol = n_volunteers or max(votes_per_object + 10, int(round(0.77 * n)))
    skill = rng.beta(5, 2.5, n_vol)
    careless = rng.random(n_vol) < 0.12
    skill[careless] = rng.uniform(0, 0.2, careless.sum())
    conservatism = rng.uniform(0.7, 0.95, n_vol)
    activity = rng.pareto(1.2, n_vol) + 1
    activity /= activity.sum()
    k = min(votes_per_object, n_vol)

    volunteers = np.stack([rng.choice(n_vol, k, replace=False, p=activity) for _ in range(n)])  # (n, k)
    faint = np.clip(0.55 + 0.25 * np.log10(np.maximum(np.nan_to_num(counts, nan=60.0), 1) / 60), 0.3, 1.0)
    ease = EASE[expert_class] * faint
    truth = np.repeat(expert_class[:, None], k, axis=1)
    correct = rng.random((n, k)) < skill[volunteers] * ease[:, None]
    to_non_cluster = rng.random((n, k)) < conservatism[volunteers]
    is_cluster = np.isin(truth, CLUSTER_CLASSES)
    # a wrong answer: another class, chosen among the non-cluster ones (κ) or the cluster ones (1 − κ)
    non_cluster_pick = rng.choice([2, 3, 4], size=(n, k))
    cluster_pick = rng.choice(list(CLUSTER_CLASSES), size=(n, k))
    wrong = np.where(to_non_cluster, non_cluster_pick, cluster_pick)
    clash = wrong == truth  # picked the true class by chance: use the other cluster class or 'other'
    wrong = np.where(clash & is_cluster, 1 - truth, np.where(clash, np.where(truth == 4, 3, 4), wrong))
    answer_class = np.where(correct, truth, wrong)

    extended_truth = np.isin(truth, (0, 1, 2)).astype(int)
    right = rng.random((n, k)) < 0.5 + 0.5 * skill[volunteers]
    answer_ext = np.where(right, extended_truth, 1 - extended_truth)

    obj = np.repeat(np.arange(n), k)
    votes = {
        "object": np.concatenate([obj, obj]).astype(np.int32),
        "volunteer": np.concatenate([volunteers.ravel(), volunteers.ravel()]).astype(np.int32),
        "question": np.concatenate([np.zeros(n * k), np.ones(n * k)]).astype(np.int8),
        "answer": np.concatenate([answer_class.ravel(), answer_ext.ravel()]).astype(np.int8),
    }
    return votes, {"skill": skill, "conservatism": conservatism, "careless": careless.astype(np.int8)}


def _answers(votes: dict, question: int):
    sel = votes["question"] == question
    return votes["object"][sel], votes["volunteer"][sel], votes["answer"][sel].astype(int)


def _tally(obj, ans, n_objects: int, n_answers: int, w=1.0) -> np.ndarray:
    table = np.zeros((n_objects, n_answers))
    np.add.at(table, (obj, ans), w)
    return table


def weights(votes: dict, question: int, n_objects: int, n_answers: int) -> np.ndarray:
    """G_vi = C_vi / Q_vi per volunteer for one question (0 for volunteers who never answered it)."""
    obj, vol, ans = _answers(votes, question)
    majority = _tally(obj, ans, n_objects, n_answers).argmax(axis=1)
    n_vol = int(votes["volunteer"].max()) + 1
    c = np.bincount(vol, weights=(ans == majority[obj]).astype(float), minlength=n_vol)
    q = np.bincount(vol, minlength=n_vol)
    return np.divide(c, q, out=np.zeros(n_vol), where=q > 0)


def vote_shares(votes: dict, n_objects: int, question: int, n_answers: int, weighted: bool = True) -> np.ndarray:
    """(n_objects, n_answers) share of the (G-weighted) votes per answer to ``question``."""
    obj, vol, ans = _answers(votes, question)
    w = weights(votes, question, n_objects, n_answers)[vol] if weighted else 1.0
    table = _tally(obj, ans, n_objects, n_answers, w)
    total = table.sum(axis=1, keepdims=True)
    return np.divide(table, total, out=np.full_like(table, 1.0 / n_answers), where=total > 0)


def cluster_probability(shares: np.ndarray) -> np.ndarray:
    """Share of the class votes for either cluster class (low-z or high-z)."""
    return shares[:, list(CLUSTER_CLASSES)].sum(axis=1)


def binary_scores(is_cluster_true: np.ndarray, is_cluster_vote: np.ndarray) -> dict[str, float]:
    """TP, TN, FP, FN, accuracy, precision, recall of volunteers against experts (the slides' table)."""
    t, p = np.asarray(is_cluster_true, bool), np.asarray(is_cluster_vote, bool)
    tp, tn, fp, fn = int((t & p).sum()), int((~t & ~p).sum()), int((~t & p).sum()), int((t & ~p).sum())
    return {"tp": tp, "tn": tn, "fp": fp, "fn": fn, "accuracy": (tp + tn) / max(len(t), 1),
            "precision": tp / (tp + fp) if tp + fp else 0.0, "recall": tp / (tp + fn) if tp + fn else 0.0}
