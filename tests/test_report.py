"""The report pipeline: outputs, determinism, atomicity, escaping."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

import revops_kit as rk
from revops_kit.report import NOTEBOOK_DIR, ReportError, neutralise_formula, run_report

from conftest import TINY, write_tables


def _notebook(path: Path, source: str) -> Path:
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell('period = "2024-Q1"\ndata = ""', metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(source),
    ])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


@pytest.fixture
def hostile_dir(tmp_path):
    tables = dict(TINY)
    tables["customers"] = TINY["customers"].replace("Acme", '"<script>alert(1)</script>"')
    return write_tables(tmp_path / "data", tables)


def test_report_outputs_escaping_and_determinism(tmp_path, hostile_dir):
    nb = _notebook(tmp_path / "10_names.ipynb",
                   "import revops_kit as rk\nrk.show(rk.load(data).customers)")
    out = tmp_path / "reports"
    folder = run_report("2024-Q1", data=hostile_dir, out=out, notebooks=[nb], progress=False)
    names = {p.name for p in folder.iterdir()}
    assert {"index.html", "10_names.html", "10_names.ipynb", "kpis.csv", "kpis.json", "manifest.json"} <= names
    page = (folder / "10_names.html").read_text()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script" not in (folder / "index.html").read_text()
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["period"] == "2024-Q1" and "subscriptions.csv" in manifest["inputs"]
    first = ((folder / "kpis.csv").read_bytes(), (folder / "kpis.json").read_bytes())
    folder = run_report("2024-Q1", data=hostile_dir, out=out, notebooks=[nb], progress=False)
    assert ((folder / "kpis.csv").read_bytes(), (folder / "kpis.json").read_bytes()) == first
    kpis = json.loads(first[1])
    mrr = next(r for r in kpis if r["kpi"] == "mrr" and r["group"] == "all")
    assert mrr["value"] == pytest.approx(150 + 1000 * 1.2 + 50.5)
    assert mrr["previous"] is None  # 2023-Q4 lies before the data


def test_failed_run_keeps_previous_report(tmp_path, tiny_dir):
    good = _notebook(tmp_path / "10_ok.ipynb", "x = 1")
    out = tmp_path / "reports"
    folder = run_report("2024-Q1", data=tiny_dir, out=out, notebooks=[good], progress=False)
    before = sorted(p.name for p in folder.iterdir())
    bad = _notebook(tmp_path / "20_bad.ipynb", "raise RuntimeError('boom in cell')")
    with pytest.raises(ReportError) as info:
        run_report("2024-Q1", data=tiny_dir, out=out, notebooks=[good, bad], progress=False, jobs=2)
    # one line per failure: notebook: ExceptionType: message (cell N)
    assert "20_bad.ipynb: RuntimeError: boom in cell (cell 2)" in str(info.value)
    assert info.value.failures == [("20_bad.ipynb", "RuntimeError: boom in cell (cell 2)")]
    assert sorted(p.name for p in folder.iterdir()) == before
    failed = out / "2024-Q1.failed"
    kept = nbformat.read(failed / "20_bad.ipynb", as_version=4)
    assert "boom in cell" in json.dumps(kept.cells[-1].outputs)
    # the page that succeeded is rendered, with its own index naming the failure
    assert (failed / "10_ok.html").exists() and not (failed / "20_bad.html").exists()
    index = (failed / "index.html").read_text()
    assert "FAILED" in index and "20_bad.ipynb" in index and "boom in cell" in index
    assert not [p for p in out.iterdir() if p.name.startswith((".tmp", ".old"))]
    # the next successful run removes the .failed folder
    run_report("2024-Q1", data=tiny_dir, out=out, notebooks=[good], progress=False)
    assert not failed.exists()


def test_cli_prints_each_failure(tmp_path, tiny_dir):
    from click.testing import CliRunner

    from revops_kit import report as report_mod
    from revops_kit.cli import main

    bad = _notebook(tmp_path / "20_bad.ipynb", "import math\nmath.sqrt(-1)")
    nb_dir = tmp_path / "nbs"
    nb_dir.mkdir()
    (nb_dir / "20_bad.ipynb").write_bytes(bad.read_bytes())
    old = report_mod.NOTEBOOK_DIR
    report_mod.NOTEBOOK_DIR = nb_dir
    try:
        result = CliRunner().invoke(main, ["report", "--data", str(tiny_dir), "--period", "2024-Q1",
                                           "--out", str(tmp_path / "r"), "--quiet"])
    finally:
        report_mod.NOTEBOOK_DIR = old
    assert result.exit_code == 1
    assert "20_bad.ipynb: ValueError: math domain error (cell 2)" in result.output


def test_stale_tmp_folder_of_a_killed_run_is_removed(tmp_path, tiny_dir):
    import subprocess
    import sys

    out = tmp_path / "reports"
    out.mkdir()
    # a run killed before it finished: its process is gone, its folder remains
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    dead = out / f".tmp-2024-Q1-pid{proc.pid}-abc123"
    (dead / "sub").mkdir(parents=True)
    (dead / "10_ok.ipynb").write_text("{}")
    legacy = out / ".tmp-2024-Q1-x7y8z9"  # the old naming, without a pid
    legacy.mkdir()
    import os

    alive = out / f".tmp-2024-Q1-pid{os.getppid()}-live"  # a run still going (our parent process)
    alive.mkdir()
    good = _notebook(tmp_path / "10_ok.ipynb", "x = 1")
    folder = run_report("2024-Q1", data=tiny_dir, out=out, notebooks=[good], progress=False)
    assert not dead.exists() and not legacy.exists() and alive.exists()
    manifest = json.loads((folder / "manifest.json").read_text())
    assert sorted(manifest["stale_folders_removed"]) == sorted([dead.name, legacy.name])


def test_two_runs_finishing_at_once_never_raise(tmp_path, tiny_dir):
    from concurrent.futures import ThreadPoolExecutor

    from revops_kit.report import _Lock, _swap_into_place

    out = tmp_path / "reports"
    out.mkdir()
    final = out / "2024-Q1"

    def finish(i):
        tmp = out / f".tmp-2024-Q1-pid0-{i}"
        tmp.mkdir()
        (tmp / "index.html").write_text(str(i))
        with _Lock(out / ".2024-Q1.lock"):
            _swap_into_place(tmp, final)
        return i

    with ThreadPoolExecutor(8) as pool:
        assert sorted(pool.map(finish, range(16))) == list(range(16))
    assert final.is_dir() and (final / "index.html").read_text() in {str(i) for i in range(16)}
    assert [p.name for p in out.iterdir() if not p.name.startswith(".2024")] == ["2024-Q1"]
    # and the real thing: two report processes at the same time (two in-process runs in threads
    # would share one process's warning filters, which `warnings.catch_warnings` does not isolate)
    import subprocess
    import sys

    good = _notebook(tmp_path / "10_ok.ipynb", "x = 1")
    code = ("import sys; from pathlib import Path; from revops_kit.report import run_report; "
            "print(run_report('2024-Q1', data=Path(sys.argv[1]), out=Path(sys.argv[2]), "
            "notebooks=[Path(sys.argv[3])], progress=False))")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(tiny_dir), str(out), str(good)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [p.communicate(timeout=600) + (p.returncode,) for p in procs]
    for stdout, stderr, rc in results:
        assert rc == 0 and "Traceback" not in stderr, stderr[-2000:]
        assert Path(stdout.strip()) == final
    assert (final / "10_ok.html").exists()


def test_neutralise_formula():
    assert neutralise_formula("=SUM(A1)") == "'=SUM(A1)"
    assert neutralise_formula("@x") == "'@x" and neutralise_formula("+1") == "'+1"
    assert neutralise_formula("-2") == "'-2" and neutralise_formula("ok") == "ok"
    assert neutralise_formula(-2.0) == -2.0


def test_overview_notebook_runs_on_sample(tmp_path):
    folder = run_report("2025-Q4", out=tmp_path, notebooks=[NOTEBOOK_DIR / "00_overview.ipynb"],
                        progress=False)
    page = (folder / "00_overview.html").read_text()
    assert "Data coverage" in page and "data:image/png;base64" in page
    assert 'src="http' not in page and "<script" not in page
    assert rk.get_kpi("mrr").label in (folder / "index.html").read_text()


def test_index_scorecard_escapes_and_reports_unknown_kpis(tmp_path):
    tables = dict(TINY)
    tables["targets"] = (
        "kpi,period,target,segment,owner,baseline\n"
        "mrr,2024-Q1,1000,,\"<script>alert(2)</script>\",\n"
        "mrrr,2024-Q1,5,,CFO,\n"
    )
    data_dir = write_tables(tmp_path / "data", tables)
    nb = _notebook(tmp_path / "10_ok.ipynb", "x = 1")
    folder = run_report("2024-Q1", data=data_dir, out=tmp_path / "reports", notebooks=[nb], progress=False)
    page = (folder / "index.html").read_text()
    assert "<script" not in page and "&lt;script&gt;alert(2)&lt;/script&gt;" in page
    assert "Scorecard" in page and "<svg" in page and "<polyline" in page
    # MRR at the end of 2024-Q1: 150 + 1000 EUR x 1.2 + 50.5 = 1400.5 against 1000 -> on track, 140 %
    assert "140%" in page and "on track" in page
    assert "unknown KPI" in page and "unknown KPI id &#x27;mrrr&#x27;" in page
    # 2023-Q4 lies before the data and MRR beats its target: nothing to tell
    assert "Largest movements and risks" not in page


def test_executive_summary_opens_the_report(tmp_path):
    nb = NOTEBOOK_DIR / "00_executive_summary.ipynb"
    assert sorted(p.name for p in NOTEBOOK_DIR.glob("[0-9]*.ipynb"))[0] == nb.name  # runs first
    folder = run_report("2025-Q4", out=tmp_path, notebooks=[nb], progress=False)
    page = (folder / "00_executive_summary.html").read_text()
    assert "Scorecard 2025-Q4" in page and page.count("<polyline") >= 10
    assert "Five things to know" in page and "<ol><li>" in page
    assert "<script" not in page and 'src="http' not in page
    index = (folder / "index.html").read_text()
    assert "Largest movements and risks" in index and "off track" in index


def test_report_from_a_duckdb_file(tmp_path, tiny_dir):
    duckdb = pytest.importorskip("duckdb")
    data = rk.load(tiny_dir)
    db = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(db))
    for name, frame in data.tables().items():
        con.register("frame", frame)
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM frame")
        con.unregister("frame")
    con.close()
    nb = _notebook(tmp_path / "10_db.ipynb", "import revops_kit as rk\nprint(rk.load(data))")
    folder = run_report("2024-Q1", data=db, out=tmp_path / "reports", notebooks=[nb], progress=False)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert list(manifest["inputs"]) == ["warehouse.duckdb"]
    assert "subscriptions=4" in (folder / "10_db.html").read_text()


def test_notebooks_run_in_their_folder_and_the_callers_cwd_stays(tmp_path, tiny_dir):
    """Kernels start in the notebook's folder; the calling process's working directory is never
    changed (papermill's ``cwd=`` would chdir the whole process from several threads at once)."""
    import os

    nbs = [_notebook(tmp_path / f"1{i}_cwd.ipynb", f"import os; assert os.getcwd() == {str(tmp_path)!r}")
           for i in range(3)]
    before = os.getcwd()
    folder = run_report("2024-Q1", data=tiny_dir, out=tmp_path / "reports", notebooks=nbs, jobs=2,
                        progress=False)
    assert os.getcwd() == before
    assert all((folder / f"1{i}_cwd.html").exists() for i in range(3))


def test_notebooks_sharing_a_kernel_start_from_a_new_kernels_state(tmp_path, tiny_dir):
    """With one worker, the notebooks run one after another in the same kernel: each starts with an
    empty namespace and execution count 1, as in a kernel of its own, and a notebook that failed
    leaves nothing behind for the next; the executed copies are those of separate kernels."""
    pid_file = tmp_path / "pid"
    first = _notebook(tmp_path / "10_first.ipynb",
                      f"leftover = 41\nimport os\npid = os.getpid()\nopen({str(pid_file)!r}, 'w').write(str(pid))")
    bad = _notebook(tmp_path / "20_bad.ipynb", "also_leftover = 1\nraise RuntimeError('boom')")
    check = _notebook(tmp_path / "30_check.ipynb",
                      "assert 'leftover' not in dir() and 'also_leftover' not in dir() and 'pid' not in dir()\n"
                      f"import os\nassert open({str(pid_file)!r}).read() == str(os.getpid())  # the same kernel\n"
                      # the kernels start before the report writes its context cache: they know where it is
                      "assert os.path.isfile(os.environ['REVOPS_REPORT_CACHE'])")
    out = tmp_path / "reports"
    with pytest.raises(ReportError) as info:
        run_report("2024-Q1", data=tiny_dir, out=out, notebooks=[first, bad, check], progress=False, jobs=1)
    assert [n for n, _ in info.value.failures] == ["20_bad.ipynb"]
    failed = out / "2024-Q1.failed"
    for name in ("10_first", "20_bad", "30_check"):
        nb = nbformat.read(failed / f"{name}.ipynb", as_version=4)
        counts = [c.execution_count for c in nb.cells if c.cell_type == "code" and c.execution_count]
        assert counts == list(range(1, len(counts) + 1)), (name, counts)
    assert (failed / "30_check.html").exists()  # its assertion held


def test_a_kernel_that_dies_keeps_its_outputs_and_the_next_notebook_gets_a_new_one(tmp_path, tiny_dir):
    """A notebook whose kernel dies fails with its executed copy (the outputs it had); the next
    notebook of the same worker runs in a new kernel."""
    dies = tmp_path / "10_dies.ipynb"
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell('period = "2024-Q1"\ndata = ""', metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("print('before the end')"),
        nbformat.v4.new_code_cell("import os\nos._exit(1)"),
    ])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, dies)
    after = _notebook(tmp_path / "20_after.ipynb", "x = 1")
    out = tmp_path / "reports"
    with pytest.raises(ReportError) as info:
        run_report("2024-Q1", data=tiny_dir, out=out, notebooks=[dies, after], progress=False, jobs=1)
    assert [n for n, _ in info.value.failures] == ["10_dies.ipynb"]
    failed = out / "2024-Q1.failed"
    kept = nbformat.read(failed / "10_dies.ipynb", as_version=4)
    assert "before the end" in json.dumps(kept.cells[2].outputs)  # injected parameters are cell 1
    assert (failed / "20_after.html").exists()


def _kernel_children() -> list[int]:
    """Pids of this process's child processes running an IPython kernel (Linux /proc)."""
    import os

    pids = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmd = (d / "cmdline").read_bytes()
        except OSError:
            continue
        if ppid == os.getpid() and b"ipykernel" in cmd:
            pids.append(int(d.name))
    return pids


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_bad_data_stops_the_kernels_started_meanwhile(tmp_path, tiny_dir):
    """The report starts its kernels while it validates the data; data that fail validation raise
    the SchemaError, write nothing and leave no kernel running."""
    tables = dict(TINY)
    tables["subscriptions"] = TINY["subscriptions"].replace("2024-03-01,100,USD", "2024-03-01,-100,USD", 1)
    bad = write_tables(tmp_path / "bad", tables)
    nb = _notebook(tmp_path / "10_ok.ipynb", "x = 1")
    with pytest.raises(rk.SchemaError):
        run_report("2024-Q1", data=bad, out=tmp_path / "reports", notebooks=[nb], progress=False, jobs=2)
    assert not (tmp_path / "reports").exists()
    assert _kernel_children() == []
