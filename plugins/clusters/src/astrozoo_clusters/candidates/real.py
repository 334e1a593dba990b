"""Loader for the public X-CLASS candidates of Kosiba et al. (2020) (shared/REAL-DATA.md §5).

Layout (Zenodo record 7236582, ``Kosiba2020.zip``)::

    Kosiba2020/train.csv, Kosiba2020/test.csv          columns: image_id, class
    Kosiba2020/train_images/<image_id>.png             356×356×3, channels [empty, optical, X-ray]
    Kosiba2020/test_images/<image_id>.png

``class`` may be a name ('low-z', 'hi-z', 'galaxy', 'point', 'other') or its index 0–4 (which form
the CSV uses is unverified, so both are accepted). Everything is validated once, with errors that
name the file: a CSV that does not match its image folder, an unknown class, a PNG of the wrong
shape. The result is written to the shared HDF5 format (the same tables the mock writes).
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import numpy as np

from astrozoo.data.store import DataError
from astrozoo_clusters.candidates.conventions import PAPER_SIZE, SHORT

ALIASES = {"low-z": 0, "lowz": 0, "low-z cluster": 0, "hi-z": 1, "high-z": 1, "hiz": 1, "high-z cluster": 1,
           "galaxy": 2, "nearby galaxy": 2, "point": 3, "point source": 3, "other": 4}
SPLIT_FILES = ("train", "test")


def find_root(path: str | Path) -> Path:
    """The folder holding train.csv: ``path`` itself or its ``Kosiba2020`` subfolder."""
    path = Path(path).expanduser()
    for candidate in (path, path / "Kosiba2020"):
        if (candidate / "train.csv").is_file():
            return candidate
    raise DataError(f"{path}: no X-CLASS data here (expected train.csv, test.csv, train_images/ and "
                    "test_images/, or a Kosiba2020/ folder holding them; download "
                    "https://zenodo.org/record/7236582/files/Kosiba2020.zip and unzip it)")


def parse_class(value: str, where: str) -> int:
    text = value.strip()
    if text.lstrip("-").isdigit():
        index = int(text)
        if 0 <= index < len(SHORT):
            return index
    elif text.lower() in ALIASES:
        return ALIASES[text.lower()]
    raise DataError(f"{where}: unknown class {value!r} (expected one of {', '.join(SHORT)} or 0–{len(SHORT) - 1})")


def read_labels(csv_path: Path) -> tuple[list[str], list[int]]:
    if not csv_path.is_file():
        raise DataError(f"{csv_path}: no such file")
    with open(csv_path, newline="") as fh:
        reader = csv.DictReader(fh)
        missing = {"image_id", "class"} - set(reader.fieldnames or [])
        if missing:
            raise DataError(f"{csv_path}: missing column(s) {', '.join(sorted(missing))} "
                            f"(has: {', '.join(reader.fieldnames or []) or 'nothing'})")
        ids, classes = [], []
        for line, row in enumerate(reader, start=2):
            ids.append(row["image_id"].strip())
            classes.append(parse_class(row["class"] or "", f"{csv_path}, line {line}"))
    duplicates = sorted(i for i, n in Counter(ids).items() if n > 1)
    if duplicates:
        raise DataError(f"{csv_path}: image_id {duplicates[0]!r} appears more than once")
    return ids, classes


def check_match(csv_path: Path, folder: Path, ids: list[str]) -> None:
    """The CSV and the image folder must list the same images."""
    if not folder.is_dir():
        raise DataError(f"{folder}: no such folder (needed for {csv_path.name})")
    pngs = {p.stem for p in folder.glob("*.png")}
    no_png = [i for i in ids if i not in pngs]
    no_row = sorted(pngs - set(ids))
    if no_png or no_row:
        parts = []
        if no_png:
            parts.append(f"{len(no_png)} image_id(s) with no PNG in {folder.name}/ (e.g. {no_png[0]!r})")
        if no_row:
            parts.append(f"{len(no_row)} PNG(s) in {folder.name}/ not listed (e.g. {no_row[0]!r})")
        raise DataError(f"{csv_path}: labels do not match the images: " + "; ".join(parts))


def read_image(path: Path, expected=(PAPER_SIZE, PAPER_SIZE, 3)) -> np.ndarray:
    from PIL import Image

    try:
        with Image.open(path) as im:
            array = np.asarray(im)
    except OSError as exc:
        raise DataError(f"{path}: not a readable PNG ({exc})") from exc
    if array.shape != tuple(expected):
        raise DataError(f"{path}: image has shape {array.shape}, expected {tuple(expected)} "
                        "(height, width, channels [empty, optical, X-ray])")
    if array.dtype != np.uint8:
        raise DataError(f"{path}: expected 8-bit channels, got {array.dtype}")
    return array


def resize(images: np.ndarray, size: int) -> np.ndarray:
    """(N, C, S, S) uint8 → (N, C, size, size) uint8 by area averaging (or bilinear upsampling)."""
    if images.shape[-1] == size:
        return images
    import torch
    import torch.nn.functional as F

    x = torch.from_numpy(images.astype(np.float32))
    mode = "area" if size < images.shape[-1] else "bilinear"
    out = F.interpolate(x, size=(size, size), mode=mode, **({} if mode == "area" else {"align_corners": False}))
    return np.clip(np.round(out.numpy()), 0, 255).astype(np.uint8)


def load_folder(path: str | Path, size: int = PAPER_SIZE) -> tuple[dict, np.ndarray, dict]:
    """(catalogue, uint8 images (N, 3, size, size), attrs) from the public layout, validated."""
    root = find_root(path)
    ids, classes, splits, images = [], [], [], []
    for split in SPLIT_FILES:
        csv_path = root / f"{split}.csv"
        split_ids, split_classes = read_labels(csv_path)
        folder = root / f"{split}_images"
        check_match(csv_path, folder, split_ids)
        for image_id in split_ids:
            images.append(read_image(folder / f"{image_id}.png").transpose(2, 0, 1))
        ids += split_ids
        classes += split_classes
        splits += [split] * len(split_ids)
    if not ids:
        raise DataError(f"{root}: train.csv and test.csv list no images")
    stacked = resize(np.stack(images), size)
    columns = {"object_id": np.asarray(ids), "expert_class": np.asarray(classes, dtype=np.int64),
               "file_split": np.asarray(splits)}
    attrs = {"provenance": "real", "source": str(root), "size": size, "native_size": PAPER_SIZE,
             "classes": ",".join(SHORT), "channels": "empty,optical,xray"}
    return columns, stacked, attrs
