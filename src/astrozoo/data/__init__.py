"""Task-agnostic data utilities: the HDF5 store, the cache, splits, cosmology, parallel work,
graphs and image physics."""

import os
from pathlib import Path


def cache_dir(*parts: str) -> Path:
    """Where generated and downloaded data live: $ASTROZOO_CACHE, else ~/.cache/astrozoo."""
    root = Path(os.environ.get("ASTROZOO_CACHE") or Path.home() / ".cache" / "astrozoo")
    path = root.joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path
