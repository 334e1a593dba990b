"""Progress bars (rich) for long work: training epochs, rendering, morphology fits."""

from __future__ import annotations

from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

console = Console(stderr=True)


@contextmanager
def progress_bar(description: str, total: int, completed: int = 0):
    """Yield ``advance(note='')``: one step done, with an optional note shown beside the bar."""
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn(), TimeRemainingColumn(), TextColumn("{task.fields[note]}"))
    with Progress(*columns, console=console, transient=False, disable=not console.is_terminal) as bar:
        task = bar.add_task(description, total=total, completed=completed, note="")

        state = {"done": completed, "printed": -1}

        def advance(note: str = "", steps: int = 1):
            bar.update(task, advance=steps, note=note)
            state["done"] += steps
            tenth = 10 * state["done"] // max(total, 1)
            if not console.is_terminal and (tenth > state["printed"] or state["done"] == total):
                state["printed"] = tenth  # logs and CI get a line every 10%
                console.print(f"{description}: {state['done']}/{total} {note}", highlight=False)

        yield advance
