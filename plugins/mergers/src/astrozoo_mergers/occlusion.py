"""Occlusion maps (Zeiler & Fergus 2014; Pearson et al. 2022; Chudy et al. §5.2).

An 8×8 box slides over the image ``stride`` pixels at a time (the paper: one); at each position
the model scores the occluded image; each pixel's heat is the mean score over the positions whose
box covered it. The box is filled with noise of the image's own background (sigma-clipped median
and σ) for raw and residual images and with zeros for Sérsic-model images, so that no structure
the network never saw is introduced. For mergers, important regions have low heat; for
non-mergers, high heat.
"""

from __future__ import annotations

import numpy as np

from astrozoo.interfaces import Split

FILL = {"raw": "noise", "residual": "noise", "model": "zero"}


def _positions(size: int, box: int, stride: int) -> list[int]:
    last = size - box
    steps = list(range(0, last + 1, max(stride, 1)))
    if steps[-1] != last:
        steps.append(last)  # so the last rows and columns are covered too
    return steps


def occlusion_map(model, image: np.ndarray, view: str = "raw", box: int = 8, stride: int = 1, seed: int = 0,
                  batch: int = 256) -> np.ndarray:
    """Heat map (S, S) for one (1, S, S) or (S, S) normalised image; ``model.predict`` scores batches."""
    from astrozoo.data.morphology import sky_stats

    image = np.asarray(image, dtype=np.float32)
    image = image[None] if image.ndim == 2 else image
    size = image.shape[-1]
    if box > size:
        raise ValueError(f"occlusion box of {box} pixels does not fit a {size}-pixel image")
    rng = np.random.default_rng(seed)
    fill = FILL.get(view, "noise")
    median, sigma = sky_stats(image[0]) if fill == "noise" else (0.0, 0.0)
    ys = xs = _positions(size, box, stride)
    corners = [(y, x) for y in ys for x in xs]
    scores = np.empty(len(corners))
    for start in range(0, len(corners), batch):
        chunk = corners[start:start + batch]
        occluded = np.repeat(image[None], len(chunk), axis=0)
        for k, (y, x) in enumerate(chunk):
            patch = rng.normal(median, sigma, (image.shape[0], box, box)) if fill == "noise" else 0.0
            occluded[k, :, y:y + box, x:x + box] = patch
        split = Split("occlusion", np.arange(len(chunk)), np.zeros(len(chunk), dtype=int),
                      {"images": occluded, "views": {view: occluded}})
        scores[start:start + len(chunk)] = np.asarray(model.predict(split), dtype=float).reshape(len(chunk), -1)[:, -1]
    heat, cover = np.zeros((size, size)), np.zeros((size, size))
    for (y, x), score in zip(corners, scores):
        heat[y:y + box, x:x + box] += score
        cover[y:y + box, x:x + box] += 1
    return heat / np.maximum(cover, 1)


def choose_examples(y_true, y_score, stages, threshold: float, n: int = 5) -> list[tuple[int, str]]:
    """Up to ``n`` test rows worth looking at: (row, caption). A single run cannot pick by the
    agreement of three CNNs as the paper did, so: the most confident correct pre-merger and
    post-merger, the most confident missed merger, correct non-merger and false alarm."""
    y, s, stages = np.asarray(y_true).astype(int), np.asarray(y_score, dtype=float), np.asarray(stages)
    hit = s >= threshold
    wanted = [
        ((y == 1) & (stages == "pre") & hit, -s, "pre-merger, classified merger"),
        ((y == 1) & (stages == "post") & hit, -s, "post-merger, classified merger"),
        ((y == 1) & ~hit, s, "merger, missed"),
        ((y == 0) & ~hit, s, "non-merger, classified non-merger"),
        ((y == 0) & hit, -s, "non-merger, classified merger"),
    ]
    out: list[tuple[int, str]] = []
    for mask, key, caption in wanted:
        rows = np.flatnonzero(mask)
        if rows.size:
            row = int(rows[np.argmin(key[rows])])
            out.append((row, f"{caption} (score {s[row]:.2f})"))
    return out[:n]
