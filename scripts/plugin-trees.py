"""Print the folder tree of every built-in plugin (docs/plugin-layout.md shows its output):
``python scripts/plugin-trees.py``. Caches, build outputs and data files are left out."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "plugins"
SKIP = {"__pycache__", ".pytest_cache", "build", "dist"}


def tree(folder: Path, prefix: str = "") -> list[str]:
    entries = sorted(p for p in folder.iterdir()
                     if p.name not in SKIP and not p.name.endswith(".egg-info") and not p.name.startswith("."))
    lines = []
    for i, entry in enumerate(entries):
        last = i == len(entries) - 1
        lines.append(f"{prefix}{'└── ' if last else '├── '}{entry.name}{'/' if entry.is_dir() else ''}")
        if entry.is_dir():
            lines += tree(entry, prefix + ("    " if last else "│   "))
    return lines


if __name__ == "__main__":
    for plugin in sorted(p for p in ROOT.iterdir() if p.is_dir() and (p / "pyproject.toml").exists()):
        print("```\n" + "\n".join([f"plugins/{plugin.name}/", *tree(plugin)]) + "\n```\n")
