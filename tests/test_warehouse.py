"""Reading from a warehouse: DuckDB files and views, SQLite and a real PostgreSQL server.

The PostgreSQL fixture runs Debian's server binaries (``apt-get install postgresql``): ``initdb``
into a temporary folder, ``pg_ctl start`` on a free port with its unix socket in that folder (no
TCP), as the ``postgres`` user when the tests run as root, and ``pg_ctl stop`` at teardown (see
:func:`postgres_server`: no server outlives the tests, even a killed run). Without
the binaries the test is skipped — except in CI (``CI=true``), where it fails: CI must run it.
"""

from __future__ import annotations

import glob
import os
import shlex
import shutil
import socket
import subprocess
import tempfile
import time
import warnings
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest

import revops_kit as rk
from revops_kit.adapters.warehouse import apply_window, engine_url, is_database, make_window, write_tables
from revops_kit.errors import DataNotFoundError, SchemaError

SAMPLE = rk.SAMPLE_DIR


def _assert_same(a: rk.RevOpsData | dict, b: rk.RevOpsData) -> None:
    tables = a if isinstance(a, dict) else a.tables()
    assert set(tables) == set(b.tables())
    for name, frame in tables.items():
        pd.testing.assert_frame_equal(frame, getattr(b, name), obj=name)


def _windowed(data: rk.RevOpsData, **window) -> dict:
    """What ``rk.load(SAMPLE, **window)`` returns, without reading the CSV files again."""
    return apply_window(data.tables(), make_window(**window))


@pytest.fixture(scope="module")
def sample_csv():
    return rk.load(SAMPLE)


# ---------------------------------------------------------------------- DuckDB
@pytest.fixture(scope="module")
def duckdb_file(sample_csv, tmp_path_factory):
    path = tmp_path_factory.mktemp("wh") / "sample.duckdb"
    write_tables(sample_csv, path)
    return path


def test_duckdb_file_round_trip(sample_csv, duckdb_file):
    _assert_same(sample_csv, rk.load(duckdb_file))
    _assert_same(sample_csv, rk.load(f"duckdb:///{duckdb_file}"))
    assert rk.load(duckdb_file, tables=["fx_rates"]).tables().keys() == {"fx_rates"}


def test_duckdb_window_is_pushed_down_and_matches_the_folder(duckdb_file, sample_csv):
    _assert_same(rk.load(SAMPLE, since="2023-03-15", until="2023-09-01"),
                 rk.load(duckdb_file, since="2023-03-15", until="2023-09-01"))
    for window in ({"since": "2024-07-01"}, {"until": "2023-01-01"}):
        _assert_same(_windowed(sample_csv, **window), rk.load(duckdb_file, **window))
    db = rk.load(duckdb_file, period="2025-Q4")
    _assert_same(_windowed(sample_csv, period="2025-Q4"), db)
    assert "pushed down to the database for: customers, subscriptions" in db.notes[-1]
    full = rk.load(duckdb_file)
    # subscriptions overlapping Q4 include ones that started long before it
    assert (db.subscriptions["start_date"] < "2025-01-01").any()
    assert len(db.subscriptions) < len(full.subscriptions)
    assert db.leads["created_at"].between("2025-10-01", "2025-12-31").all()
    assert len(db.fx_rates) == len(full.fx_rates)  # not filtered


def test_window_kpis_of_the_period_match_the_full_data(duckdb_file, sample_csv):
    ids = ["mrr", "arr", "customers_active"]  # end-of-period state: needs nothing before the window
    windowed = rk.load(duckdb_file, period="2025-Q4")
    pd.testing.assert_frame_equal(rk.compute_kpis(windowed, "2025-Q4", ids),
                                  rk.compute_kpis(sample_csv, "2025-Q4", ids))


def test_duckdb_views_over_raw_text(tmp_path, sample_csv):
    """Views (e.g. dbt models) over text columns: parsed like CSV, filtered after parsing."""
    import duckdb

    path = tmp_path / "views.duckdb"
    con = duckdb.connect(str(path))
    for name in sample_csv.tables():
        csv = SAMPLE / f"{name}.csv"
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_csv('{csv}', all_varchar=true)")
    con.close()
    _assert_same(sample_csv, rk.load(path))
    _assert_same(_windowed(sample_csv, period="2025-Q2"), rk.load(path, period="2025-Q2"))


def test_duckdb_schema_upper_case_columns_and_errors(tmp_path, tiny_dir):
    import duckdb

    path = tmp_path / "x.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA crm")
    con.execute("CREATE TABLE crm.CUSTOMERS AS SELECT 'c1' AS CUSTOMER_ID, 'Acme' AS NAME")
    con.execute("CREATE TABLE other (a INTEGER)")
    con.close()
    data = rk.load(path, schema="crm")
    assert data.customers.columns.tolist() == ["customer_id", "name"]
    with pytest.raises(DataNotFoundError, match="no table or view named like a canonical table"):
        rk.load(path)
    with pytest.raises(DataNotFoundError, match="does not exist"):
        rk.load(tmp_path / "missing.duckdb")


def test_database_validation_names_table_column_rows(tmp_path):
    import duckdb

    path = tmp_path / "bad.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE subscriptions AS SELECT * FROM (VALUES ('s1', 'c1', DATE '2024-01-01', NULL, -5.0), "
                "('s2', 'c1', DATE '2024-01-01', NULL, 5.0)) t(subscription_id, customer_id, start_date, end_date, mrr)")
    con.close()
    with pytest.raises(SchemaError) as info:
        rk.load(path)
    assert "subscriptions" in str(info.value) and "mrr" in str(info.value) and "1 (-5.0)" in str(info.value)


def test_windowed_orphans_are_checked_against_the_full_tables(tmp_path):
    """A lead of the window may point to an opportunity outside it: not an orphan. A real one is."""
    frames = {
        "opportunities": pd.DataFrame({"opportunity_id": ["o1"], "created_at": pd.to_datetime(["2024-01-01"]),
                                       "stage": ["Closed Won"], "amount": [1.0], "is_closed": [True],
                                       "close_date": pd.to_datetime(["2024-02-01"])}),
        "leads": pd.DataFrame({"lead_id": ["l1"], "created_at": pd.to_datetime(["2024-06-01"]),
                               "opportunity_id": ["o1"]}),
    }
    path = tmp_path / "o.duckdb"
    write_tables(rk.from_frames(frames), path)
    data = rk.load(path, since="2024-05-01")
    assert data.opportunities.empty and data.leads["opportunity_id"].tolist() == ["o1"]
    frames["leads"]["opportunity_id"] = ["o9"]
    write_tables(rk.from_frames(frames, validate=False), path)
    with pytest.raises(SchemaError, match="opportunity_exists"):
        rk.load(path, since="2024-05-01")


def test_sqlite_through_sqlalchemy(tmp_path, tiny_dir):
    url = f"sqlite:///{tmp_path / 'tiny.sqlite'}"
    csv = rk.load(tiny_dir)
    write_tables(csv, url)
    _assert_same(csv, rk.load(url))
    _assert_same(rk.load(tiny_dir, since="2024-03-01"), rk.load(url, since="2024-03-01"))


def test_urls_and_windows():
    assert is_database("postgresql://u@h/db") and is_database("x.duckdb") and not is_database("data/sample")
    assert engine_url("postgres://u@h/db").startswith("postgresql")
    w = make_window(period="2025-Q4")
    assert (str(w.since.date()), str(w.until.date())) == ("2025-10-01", "2026-01-01")
    with pytest.raises(ValueError, match="not both"):
        make_window(since="2025-01-01", period="2025-Q1")
    with pytest.raises(ValueError, match="after since"):
        make_window(since="2025-02-01", until="2025-01-01")


def test_password_is_masked_in_source():
    from revops_kit.adapters import warehouse

    assert warehouse._safe_url("postgresql://me:s3cret@db.example.com/x") == "postgresql://me:***@db.example.com/x"


# ---------------------------------------------------------------------- PostgreSQL
def _pg_bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0)
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb and shutil.which("pg_ctl") else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - someone else's process
        return True
    return True


@contextmanager
def postgres_server(bindir: Path):
    """Run a throw-away PostgreSQL server from ``bindir``; yields its SQLAlchemy URL.

    No server outlives the tests: it is stopped at teardown, also when ``pg_ctl start`` failed
    half-way (a timed-out start leaves a running postmaster) and, should ``pg_ctl stop`` not stop
    it, its postmaster (by the pid in its ``postmaster.pid``) is killed. The postmaster runs in
    its own session (pg_ctl's ``setsid``), so killing the test's process group does not reach it:
    a watchdog in a session of its own stops the server and removes its folder when this process
    is gone without a teardown (killed, timed out)."""
    root = Path(tempfile.mkdtemp(prefix="revops-pg-"))
    prefix: list[str] = []
    if os.geteuid() == 0:  # the server refuses to run as root
        shutil.chown(root, user="postgres")
        runner = shutil.which("runuser")
        prefix = [runner, "-u", "postgres", "--"] if runner else ["su", "postgres", "-c"]
    data, port = root / "data", _free_port()

    def command(*args: str) -> list[str]:
        return prefix + [" ".join(args)] if prefix[:1] == ["su"] else prefix + list(args)

    def run(*args: str, timeout: float = 120) -> None:
        subprocess.run(command(*args), check=True, capture_output=True, text=True, timeout=timeout)

    def postmaster() -> int | None:
        try:
            return int((data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def stop() -> None:
        pid = postmaster()
        for mode in ("fast", "immediate"):
            try:
                run(str(bindir / "pg_ctl"), "-D", str(data), "-m", mode, "-w", "-t", "60", "stop",
                    timeout=90)
                break
            except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
                continue
        if pid is not None and _alive(pid):  # the server this fixture started, by its pid
            os.kill(pid, 9)

    pg_ctl = " ".join(shlex.quote(a) for a in command(str(bindir / "pg_ctl"), "-D", str(data),
                                                        "-m", "immediate", "stop"))
    watchdog = subprocess.Popen(
        ["sh", "-c", f"while kill -0 {os.getpid()} 2>/dev/null; do sleep 2; done; "
                     f"{pg_ctl} >/dev/null 2>&1; rm -rf {shlex.quote(str(root))}"],
        start_new_session=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    try:
        run(str(bindir / "initdb"), "-D", str(data), "-U", "revops", "-A", "trust", "-E", "UTF8", "--no-sync")
        try:
            run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(root / "server.log"), "-w", "-t", "60", "-o",
                f"-p {port} -k {root} -c listen_addresses='' -c fsync=off -c full_page_writes=off", "start")
            yield f"postgresql://revops@/postgres?host={root}&port={port}"
        finally:
            stop()
    finally:
        watchdog.kill()
        watchdog.wait()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def postgres_url():
    """A throw-away PostgreSQL server for this module (skipped without binaries, except in CI)."""
    bindir = _pg_bindir()
    if bindir is None:
        reason = ("PostgreSQL server binaries (initdb, pg_ctl) not found; install Debian's "
                  "`postgresql` package (.ci/run does) to run the warehouse integration test")
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but {reason}", pytrace=False)
        pytest.skip(reason)
    with postgres_server(bindir) as url:
        yield url


@pytest.fixture(scope="module")
def postgres_sample(postgres_url, sample_csv):
    """The sample written to the server's ``analytics`` schema; yields the URL."""
    counts = write_tables(sample_csv, postgres_url, schema="analytics")
    assert counts["subscriptions"] == len(sample_csv.subscriptions)
    return postgres_url


@pytest.mark.postgres
def test_postgres_round_trip_gives_the_same_kpis(postgres_sample, sample_csv, record_property):
    started = time.perf_counter()
    db = rk.load(postgres_sample, schema="analytics")
    record_property("load_seconds_postgres", round(time.perf_counter() - started, 2))
    _assert_same(sample_csv, db)
    assert "***" not in db.source and db.source.startswith("postgresql://revops@")
    with warnings.catch_warnings():  # e.g. NPS without responses in the period: same on both sides
        warnings.simplefilter("ignore", rk.RevOpsWarning)
        from_db, from_csv = rk.compute_kpis(db, "2025-Q4"), rk.compute_kpis(sample_csv, "2025-Q4")
    assert len(from_csv) > 50 and set(from_csv["kpi"]) >= {"mrr", "nrr", "win_rate", "crm_quality_score"}
    pd.testing.assert_frame_equal(from_db, from_csv)


@pytest.mark.postgres
def test_postgres_window_pushdown(postgres_sample, sample_csv):
    for window in ({"period": "2025-Q4"}, {"since": "2024-01-01", "until": "2024-07-01"}):
        db = rk.load(postgres_sample, schema="analytics", **window)
        _assert_same(_windowed(sample_csv, **window), db)
        assert "pushed down to the database for: customers, subscriptions, invoices, opportunities" in db.notes[-1]


@pytest.mark.postgres
def test_postgres_views_and_text_columns(postgres_url, tiny_dir):
    import sqlalchemy as sa

    engine = sa.create_engine(engine_url(postgres_url))
    with engine.begin() as con:
        con.execute(sa.text("DROP TABLE IF EXISTS raw_subs CASCADE"))
        con.execute(sa.text("CREATE TABLE raw_subs (subscription_id text, customer_id text, start_date text, "
                            "end_date text, mrr text, currency text, product text)"))
        subs = pd.read_csv(tiny_dir / "subscriptions.csv", dtype=str)
        subs.to_sql("raw_subs", con, if_exists="append", index=False)
        con.execute(sa.text("CREATE SCHEMA IF NOT EXISTS text_only"))
        con.execute(sa.text("CREATE OR REPLACE VIEW text_only.subscriptions AS SELECT * FROM public.raw_subs"))
    engine.dispose()
    data = rk.load(postgres_url, schema="text_only", since="2024-03-01")
    expected = rk.load(tiny_dir, tables=["subscriptions"], since="2024-03-01").subscriptions
    pd.testing.assert_frame_equal(data.subscriptions, expected)
    assert "pushed down to the database for: no table" in data.notes[-1]

