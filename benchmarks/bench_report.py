"""Wall time of the report on the sample against the "kernel floor".

    python benchmarks/bench_report.py [-j 2] [--period 2025-Q4] [--data data/sample]

Prints, from one run each:

* ``report``: wall time of ``run_report`` (what ``revops report`` does) on the sample for its
  default period (the data's last full quarter), and the per-notebook times from the manifest;
* ``floor``: the same number of notebooks, each only ``import pandas, matplotlib``, executed the
  same way (papermill, same kernel manager, same ``-j``);
* their ratio. Targets (issue 13): report < 30 s and ≤ 2 × the floor on a 2-core machine.

The floor is what any papermill report pays before computing anything (kernel start-up,
messaging, writing the executed notebooks); the ratio says how much of the rest is ours.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _floor_notebooks(folder: Path, n: int) -> list[Path]:
    import nbformat

    paths = []
    for i in range(n):
        nb = nbformat.v4.new_notebook(cells=[
            nbformat.v4.new_code_cell('period = "2025-Q4"\ndata = ""', metadata={"tags": ["parameters"]}),
            nbformat.v4.new_code_cell("import pandas, matplotlib"),
        ])
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        path = folder / f"{i:02d}_floor.ipynb"
        nbformat.write(nb, path)
        paths.append(path)
    return paths


class CPU:
    """CPU seconds (user + system) of this process and of its finished children (the kernels)
    between ``start()`` and ``stop()``: a measure that, unlike wall time, other jobs on a shared
    machine hardly move."""

    def start(self) -> "CPU":
        self._self = self._now(resource.RUSAGE_SELF)
        self._kids = self._now(resource.RUSAGE_CHILDREN)
        return self

    def stop(self) -> "CPU":
        self.parent = self._now(resource.RUSAGE_SELF) - self._self
        self.kernels = self._now(resource.RUSAGE_CHILDREN) - self._kids
        return self

    @staticmethod
    def _now(who) -> float:
        r = resource.getrusage(who)
        return r.ru_utime + r.ru_stime

    def __str__(self) -> str:
        return (f"CPU {self.parent + self.kernels:6.1f} s = parent {self.parent:5.1f} s "
                f"+ kernels {self.kernels:5.1f} s")


def kernel_floor(n: int, jobs: int, reuse: bool = False) -> tuple[float, CPU]:
    """The floor: ``n`` notebooks that only import pandas and matplotlib, ``jobs`` at a time
    through the report's own scheduler, each in a kernel of its own (the issue's definition) or,
    with ``reuse``, on ``jobs`` kernels reused from notebook to notebook as the report runs them."""
    import threading

    from revops_kit.report import _execute, _run_scheduled

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        nbs = _floor_notebooks(tmp, n)
        out = tmp / "out"
        out.mkdir()
        ready = threading.Event()
        ready.set()
        cpu = CPU().start()
        t0 = time.perf_counter()
        runs = _run_scheduled(nbs, lambda nb, slot: _execute(nb, out / nb.name, {"period": "2025-Q4"}, tmp, None, slot),
                              jobs, ready, lambda run: None, reuse_kernels=reuse)
        wall = time.perf_counter() - t0
        cpu.stop()
    bad = [r for r in runs if r.error]
    if bad:
        raise SystemExit(f"floor notebook failed: {bad[0].error}")
    return wall, cpu


def report_wall(data: str, period: str | None, jobs: int, keep: str | None = None) -> tuple[float, dict, CPU]:
    import revops_kit.report  # noqa: F401  (the package import is not part of the report's time)
    from revops_kit.report import run_report

    with tempfile.TemporaryDirectory() as tmp:
        cpu = CPU().start()
        t0 = time.perf_counter()
        folder = run_report(period, data=data, out=keep or tmp, jobs=jobs, progress=False)
        wall = time.perf_counter() - t0
        cpu.stop()
        manifest = json.loads((folder / "manifest.json").read_text())
    return wall, manifest, cpu


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-j", "--jobs", type=int, default=2)
    ap.add_argument("--period", default=None)
    ap.add_argument("--data", default=str(ROOT / "data" / "sample"))
    ap.add_argument("--keep", default=None, help="write the report under this folder (default: a temporary one)")
    args = ap.parse_args(argv)

    from revops_kit.report import NOTEBOOK_DIR

    n = len(list(NOTEBOOK_DIR.glob("[0-9]*.ipynb")))
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start", flush=True)
    wall, manifest, cpu = report_wall(args.data, args.period, args.jobs, args.keep)
    print(f"report  {manifest['period']}: {wall:6.1f} s wall  ({n} notebooks, -j {args.jobs}); {cpu}", flush=True)
    for nb in sorted(manifest["notebooks"], key=lambda r: -r["seconds"]):
        print(f"    {nb['name']:<28} {nb['seconds']:6.1f} s")
    floor, fcpu = kernel_floor(n, args.jobs)
    print(f"floor   {n} notebooks importing pandas + matplotlib, a kernel each: {floor:6.1f} s wall "
          f"(-j {args.jobs}); {fcpu}")
    rfloor, rcpu = kernel_floor(n, args.jobs, reuse=True)
    print(f"        the same on {args.jobs} reused kernels (as the report runs them): {rfloor:6.1f} s wall; {rcpu}")
    total, ftotal, rtotal = cpu.parent + cpu.kernels, fcpu.parent + fcpu.kernels, rcpu.parent + rcpu.kernels
    print(f"ratio   report / floor = {wall / floor:.2f} wall, {total / ftotal:.2f} CPU"
          f"   (targets: report < 30 s, ratio <= 2);  / reused-kernel floor = {wall / rfloor:.2f} wall, "
          f"{total / rtotal:.2f} CPU")
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
