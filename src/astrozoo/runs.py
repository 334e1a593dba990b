"""``astrozoo runs``: housekeeping of the tracking store."""

from __future__ import annotations

import click


@click.group()
def runs():
    """Housekeeping of the runs in the tracking store."""


@runs.command()
def gc():
    """Mark runs whose process died KILLED and remove the checkpoints of finished runs.

    A run is dead when it is RUNNING, its tag astrozoo.host is this machine and its process
    (astrozoo.pid, started at astrozoo.pid_start) is gone. Killed and failed runs keep their
    checkpoints for --resume.
    """
    from astrozoo import tracking

    tracking.check_store()
    killed, removed = tracking.collect_garbage()
    for run_id in killed:
        click.echo(f"marked KILLED: {run_id} (its process is gone)")
    for folder in removed:
        click.echo(f"removed checkpoints: {folder}")
    click.echo(f"{len(killed)} dead run(s) marked KILLED, {len(removed)} checkpoint folder(s) removed")
