"""``astrozoo data``: generate mock data, download real data, describe a data file.

A built-in plugin: it adds its commands through ``register_commands`` like any other. Datasets
offer ``generate(output)`` (mocks, declared in :class:`astrozoo.interfaces.Dataset`) and
``download(output, **options)`` (real data) when they can.
"""

from __future__ import annotations

from pathlib import Path

import click
from astrozoo.errors import AstrozooError
from astrozoo.hookspecs import hookimpl


def _dataset(task: str, name: str | None, want: str):
    from astrozoo.registry import get_registry

    registry = get_registry()
    cls = registry.dataset(task, name or registry.task(task).default_dataset)
    can = (lambda c: c.can_generate()) if want == "generate" else (lambda c: hasattr(c, want))
    if not can(cls):
        able = [n for n, entries in registry.datasets.items() if entries[0].tasks[0] == task
                and can(entries[0].load())]
        raise AstrozooError(f"dataset {cls.name!r} cannot {want}; datasets of {task!r} that can: "
                            f"{', '.join(able) or 'none'}")
    return cls


@click.group()
def data():
    """Generate, download and inspect data files."""


@data.command()
@click.argument("task")
@click.option("--dataset", "-d", default=None, help="A mock dataset of TASK (default: the task's).")
@click.option("--box", default=None, help="Shorthand for --dataset mock-BOX (halo-mass: tng50, tng100, tng300).")
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--set", "settings", multiple=True, metavar="KEY=VALUE",
              help="A data parameter of the mock, e.g. --set n_major=20 (repeatable; values read as TOML).")
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=None,
              help="Where to write (default: the cache the runs use).")
def generate(task, dataset, box, seed, settings, output):
    """Generate TASK's mock data (seeded and deterministic) into one HDF5 file."""
    from astrozoo.recipes import parse_override

    if box and dataset:
        raise AstrozooError("give --box or --dataset, not both")
    cls = _dataset(task, f"mock-{box}" if box else dataset, "generate")
    params = {}
    for text in settings:
        _, key, value = parse_override(f"data.{text}")
        params[key] = value
    try:
        instance = cls(seed=seed, **params)
    except TypeError as exc:  # an unknown parameter name
        raise AstrozooError(f"dataset {cls.name!r}: {exc}") from exc
    path = instance.generate(Path(output)) if output else instance.data_file()
    click.echo(f"wrote {path}")


@data.command()
@click.argument("task")
@click.option("--dataset", "-d", default=None, help="A real dataset of TASK (default: the first that can download).")
@click.option("--simulation", default=None, help="Simulation name, e.g. TNG50-1.")
@click.option("--snap", default=None, type=int, help="Snapshot number (TNG: 99 is z = 0; default: the dataset's).")
@click.option("--images", is_flag=True, default=None, help="Also download the image cutouts (large).")
@click.option("--output", "-o", type=click.Path(file_okay=False), default=None)
def download(task, dataset, simulation, snap, images, output):
    """Download TASK's real data (credentials from the environment, e.g. TNG_API_KEY)."""
    from astrozoo.data import cache_dir
    from astrozoo.registry import get_registry

    if dataset is None:
        able = [n for n, entries in get_registry().datasets.items()
                if entries[0].tasks[0] == task and hasattr(entries[0].load(), "download")]
        if not able:
            raise AstrozooError(f"no dataset of {task!r} can download")
        dataset = able[0]
    cls = _dataset(task, dataset, "download")
    options = {k: v for k, v in dict(simulation=simulation, snap=snap, images=images).items() if v is not None}
    path = cls.download(Path(output) if output else cache_dir(task, "real"), **options)
    click.echo(f"wrote {path}")


@data.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def info(path):
    """Describe an astrozoo HDF5 data file: provenance, parameters, tables, columns and units."""
    import h5py

    from astrozoo.data import store

    from astrozoo.registry import get_registry

    for entries in get_registry().datasets.values():  # a raw file a dataset knows (e.g. a TNG chunk)
        cls = entries[0].load()
        lines = cls.describe(path) if hasattr(cls, "describe") else None
        if lines:
            click.echo("\n".join([path] + ["  " + line for line in lines]))
            return
    attrs = store.read_attrs(path)
    click.echo(f"{path}")
    for key, value in sorted(attrs.items()):
        text = str(value)
        click.echo(f"  {key}: {text[:200] + '…' if len(text) > 200 else text}")
    with h5py.File(path, "r") as f:
        for group in f.values():
            if isinstance(group, h5py.Group):
                click.echo(f"  [{group.name.strip('/')}]")
                for name, ds in group.items():
                    unit = ds.attrs.get("unit", "")
                    click.echo(f"    {name:24s} {str(ds.dtype):8s} {str(ds.shape):16s} {unit}")


@hookimpl
def register_commands(cli):
    cli.add_command(data)
