"""How long the CLI takes to answer: wall and CPU time of `astrozoo --help`, `astrozoo list`,
`astrozoo plugins` and `astrozoo run --help` beside `python -c pass`, measured side by side
(the commands take turns, so a change of machine load touches all of them alike), and which
heavy libraries `astrozoo list` imports (`python -X importtime`).

    python benchmarks/startup.py            # 5 rounds; prints a markdown table
    python benchmarks/startup.py -n 11

CPU time is user + system time of the child process (resource.getrusage(RUSAGE_CHILDREN)).
The table states the date, the machine's load (`uptime`) and the CPU count: quote it with them.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone

HEAVY = ("torch", "sklearn", "mlflow", "timm", "torch_geometric")


def astrozoo_command() -> list[str]:
    """The `astrozoo` script beside this Python (what a user types), else `python -m astrozoo`."""
    script = os.path.join(os.path.dirname(sys.executable), "astrozoo")
    found = script if os.path.exists(script) else shutil.which("astrozoo")
    return [found] if found else [sys.executable, "-m", "astrozoo"]


def commands() -> dict[str, list[str]]:
    az = astrozoo_command()
    return {
        "python -c pass": [sys.executable, "-c", "pass"],
        "astrozoo --help": az + ["--help"],
        "astrozoo list": az + ["list"],
        "astrozoo plugins": az + ["plugins"],
        "astrozoo run --help": az + ["run", "--help"],
    }


def measure(argv: list[str]) -> tuple[float, float]:
    """(wall, CPU) seconds of one run of ``argv``; a failing command stops the benchmark."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def imported_modules(argv: list[str]) -> set[str]:
    """Top-level packages that ``python -X importtime <argv>`` imports."""
    done = subprocess.run([sys.executable, "-X", "importtime"] + argv, capture_output=True, text=True)
    names = set()
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            name = line.rsplit("|", 1)[1].strip()
            if name and name != "imported package":
                names.add(name.split(".")[0])
    return names


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--rounds", type=int, default=5, help="repetitions of each command (default 5)")
    args = parser.parse_args()
    cmds = commands()
    for argv in cmds.values():  # warm the file cache once; not counted
        measure(argv)
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in cmds}
    for _ in range(args.rounds):
        for name, argv in cmds.items():  # interleaved: side by side under the same load
            times[name].append(measure(argv))
    load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    base_wall = statistics.median(w for w, _ in times["python -c pass"])
    base_cpu = statistics.median(c for _, c in times["python -c pass"])

    print("## astrozoo start-up time\n")
    print(f"{now}; `uptime`: {load}; {os.cpu_count()} CPUs; Python {platform.python_version()}; "
          f"{args.rounds} interleaved rounds, medians; `{' '.join(astrozoo_command())}`\n")
    print("| command | wall [s] | CPU [s] | wall − python [s] | CPU − python [s] |")
    print("|---|---:|---:|---:|---:|")
    for name, runs in times.items():
        wall = statistics.median(w for w, _ in runs)
        cpu = statistics.median(c for _, c in runs)
        extra = ("—", "—") if name == "python -c pass" else (f"{wall - base_wall:.2f}", f"{cpu - base_cpu:.2f}")
        print(f"| `{name}` | {wall:.2f} | {cpu:.2f} | {extra[0]} | {extra[1]} |")
    found = imported_modules(["-m", "astrozoo", "list"])
    print("\n`python -X importtime -m astrozoo list` imports: "
          + ", ".join(f"{m} {'**yes**' if m in found else 'no'}" for m in HEAVY))


if __name__ == "__main__":
    main()
