"""The SQL engine (revops_kit.engines.sql) against the pandas engine on three real backends.

Parity means identical frames — movements, bridges and KPIs in integer cents, counts, ratios —
from ``engine="pandas"`` and from the SQL engine on DuckDB (embedded), PostgreSQL (the
throw-away server of ``tests/test_warehouse.py``) and PySpark in local mode, on the sample, on
the dbt mrr-playbook case (``tests/test_retention.py`` reproduces the playbook's SQL) and on
hypothesis-generated books with two currencies (``tests/test_revenue.py``'s generators).

PostgreSQL and Spark skip with a reason when their binaries (``initdb``; ``java`` 17+) are
absent, except under ``CI=true``, where they fail: CI must run them (``.ci/run`` installs both).
Spark runs one session for the whole module (``local[1]``, one shuffle partition) and few
examples: each Spark query costs seconds.
"""

from __future__ import annotations

import os
import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import revops_kit as rk
from revops_kit.engines import SQLEngineUnsupported, is_sql

ibis = pytest.importorskip("ibis", reason="engine='sql' needs the [sql] extra (Ibis)")
from revops_kit.engines import sql  # noqa: E402
from test_retention import _dbt_playbook_duckdb  # noqa: E402  (the playbook's models in SQL)
from test_revenue import CUSTOMERS, GOLDEN, books, rates  # noqa: E402
from test_warehouse import postgres_url  # noqa: E402,F401  (module-scoped server fixture)

SQL_KPIS = ["mrr", "arr", "customers_active", "mrr_new", "mrr_expansion", "mrr_reactivation",
            "mrr_contraction", "mrr_churned", "mrr_net_change", "customers_new",
            "customers_reactivated", "customers_churned", "logo_churn_rate", "grr", "nrr",
            "gross_revenue_churn_rate", "net_revenue_churn_rate", "expansion_rate", "quick_ratio",
            "arpa", "revenue_growth_rate"]


def _ci() -> bool:
    return os.environ.get("CI") == "true"


# ---------------------------------------------------------------------- backends
@pytest.fixture(scope="module")
def duckdb_con():
    return ibis.duckdb.connect()


@pytest.fixture(scope="module")
def postgres_con(postgres_url):  # noqa: F811
    return sql.connect(postgres_url)


@pytest.fixture(scope="module")
def spark_con(tmp_path_factory):
    reason = None
    if shutil.which("java") is None:
        reason = ("no `java` on PATH: PySpark needs a Java 17+ runtime (Debian: apt-get install "
                  "default-jre-headless; .ci/run does)")
    else:
        try:
            from pyspark.sql import SparkSession
        except ImportError:
            reason = "PySpark is not installed (pip install 'revops-kit[spark]')"
    if reason:
        if _ci():
            pytest.fail(f"CI=true but {reason}", pytrace=False)
        pytest.skip(reason)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # PySpark on pandas 3
        spark = (SparkSession.builder.master("local[1]").appName("revops-kit-tests")
                 .config("spark.ui.enabled", "false")
                 .config("spark.sql.shuffle.partitions", "1")
                 .config("spark.default.parallelism", "1")
                 .config("spark.sql.session.timeZone", "UTC")
                 .config("spark.sql.codegen.wholeStage", "false")
                 .config("spark.driver.memory", "1g")
                 .config("spark.sql.warehouse.dir", str(tmp_path_factory.mktemp("spark")))
                 .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    yield ibis.pyspark.connect(spark)
    spark.stop()


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres),
                        pytest.param("spark", marks=pytest.mark.spark)])
def backend(request):
    """The name and an Ibis connection of each backend."""
    return request.param, request.getfixturevalue(f"{request.param}_con")


def _same(got: pd.DataFrame, want: pd.DataFrame) -> None:
    """Frames equal in every value and dtype, except that text columns may be ``object`` on one
    side and pandas' ``str`` on the other (the pandas engine keeps the dtype of its input, which
    a database does not tell)."""
    def plain(frame):
        out = frame.copy()
        for c in out.columns:
            if pd.api.types.is_string_dtype(out[c]) and not isinstance(out[c].dtype,
                                                                       pd.CategoricalDtype):
                out[c] = out[c].astype(object)
        return out

    pd.testing.assert_frame_equal(plain(got), plain(want))


def _on(con, frame: pd.DataFrame) -> sql.SQLSubscriptions:
    return sql.SQLSubscriptions.from_frame(frame, con=con)


def _quiet():
    ctx = warnings.catch_warnings()
    ctx.__enter__()
    warnings.simplefilter("ignore", rk.RevOpsWarning)  # zero denominators: same on both sides
    warnings.simplefilter("ignore", FutureWarning)
    return ctx


# ---------------------------------------------------------------------- the sample
def test_sample_kpis_bridges_and_cohorts_are_identical(backend, sample):
    name, con = backend
    subs = _on(con, sample.subscriptions)
    data = rk.from_frames({k: v for k, v in sample.tables().items() if k != "subscriptions"},
                          validate=False)
    data.subscriptions = subs
    ctx = _quiet()
    try:
        got = rk.compute_kpis(data, "2025-Q4", SQL_KPIS)
        want = rk.compute_kpis(sample, "2025-Q4", SQL_KPIS)
        kw = {"customers": sample.customers, "fx_rates": sample.fx_rates}
        by = "segment" if name == "spark" else ["segment", "currency"]
        b_sql = rk.mrr_bridge(subs, "2025-Q4", by=by, **kw)
        b_pd = rk.mrr_bridge(sample.subscriptions, "2025-Q4", by=by, **kw)
        c_sql = rk.cohort_retention(subs, freq="Q", end="2025-Q4", max_age=8, last_cohorts=6, **kw)
        c_pd = rk.cohort_retention(sample.subscriptions, freq="Q", end="2025-Q4", max_age=8,
                                   last_cohorts=6, **kw)
    finally:
        ctx.__exit__(None, None, None)
    assert len(want) == len(SQL_KPIS) and not want["value"].isna().all()
    _same(got, want)
    _same(b_sql, b_pd)
    assert (b_sql["customers_end"] > 0).all() and b_sql["fx_impact"].abs().sum() > 0
    _same(c_sql, c_pd)
    # only aggregates came back: a few hundred rows at most for ~10k subscription periods
    assert subs.rows_fetched < 400 < len(sample.subscriptions)


# ---------------------------------------------------------------------- golden and dbt cases
def test_golden_book_movements_and_bridge(backend):
    _, con = backend
    subs = _on(con, GOLDEN)
    _same(rk.mrr_movements(subs), rk.mrr_movements(GOLDEN))
    got = rk.mrr_bridge_series(subs, ["2025-01", "2025-02", "2025-Q1"], by="segment",
                               customers=CUSTOMERS)
    want = rk.mrr_bridge_series(GOLDEN, ["2025-01", "2025-02", "2025-Q1"], by="segment",
                                customers=CUSTOMERS)
    _same(got, want)
    q1 = got[(got["period"] == "2025-Q1")].set_index("segment")
    # hand-computed in tests/test_revenue.py: Q1 starts at 1100 and ends at 1060
    assert q1["mrr_start"].sum() == 1100 and q1["mrr_end"].sum() == 1060


def _playbook_book(subs: pd.DataFrame) -> pd.DataFrame:
    """The playbook's conventions (as tests/test_retention.py): month starts, ended periods,
    no zero amounts, one period at a time per customer."""
    subs = subs.copy()
    subs["start_date"] = subs["start_date"].dt.to_period("M").dt.to_timestamp()
    subs["end_date"] = subs["end_date"].fillna(subs["start_date"] + pd.DateOffset(months=5))
    subs["end_date"] = subs["end_date"].dt.to_period("M").dt.to_timestamp()
    subs = subs[(subs["mrr"] > 0) & (subs["end_date"] > subs["start_date"])]
    subs = subs.sort_values(["customer_id", "start_date"])
    keep, last_end = [], {}
    for idx, row in subs.iterrows():
        if row["start_date"] >= last_end.get(row["customer_id"], pd.Timestamp.min):
            keep.append(idx)
            last_end[row["customer_id"]] = row["end_date"]
    return subs.loc[keep].reset_index(drop=True)


def _rows(mv: pd.DataFrame) -> list[tuple]:
    return sorted((r.customer_id, r.month, round(r.mrr * 100), round(r.previous_mrr * 100),
                   str(r.category)) for r in mv.itertuples())


DBT_BOOK = _playbook_book(GOLDEN.assign(currency="USD"))


def _dbt_reference(book: pd.DataFrame) -> list[tuple]:
    dbt = _dbt_playbook_duckdb(book)
    dbt = dbt[(dbt["mrr"] > 0) | (dbt["previous_month_mrr"] > 0)]
    names = {"upgrade": "expansion", "downgrade": "contraction"}
    return sorted((r.customer_id, pd.Timestamp(r.date_month), round(r.mrr * 100),
                   round(r.previous_month_mrr * 100),
                   names.get(r.change_category, r.change_category)
                   if isinstance(r.change_category, str) else "unchanged")
                  for r in dbt.itertuples())


def test_dbt_mrr_playbook_case_on_every_backend(backend):
    _, con = backend
    subs = _on(con, DBT_BOOK)
    ours = rk.mrr_movements(subs, policy="dbt_mrr_playbook")
    _same(ours, rk.mrr_movements(DBT_BOOK, policy="dbt_mrr_playbook"))
    assert _rows(ours) == _dbt_reference(DBT_BOOK)
    assert {"new", "churn", "expansion", "contraction"} <= set(ours["category"].astype(str))


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(books(max_customers=6, currencies=("USD",)))
def test_dbt_mrr_playbook_reproduced_in_duckdb(duckdb_con, subs):
    book = _playbook_book(subs)
    if book.empty:
        return
    ours = rk.mrr_movements(_on(duckdb_con, book), policy="dbt_mrr_playbook")
    assert _rows(ours) == _dbt_reference(book)


# ---------------------------------------------------------------------- hypothesis books
PERIODS = ["2024-07", "2024-Q3", "2024-Q4", "2025-02", "2025-Q2", "2025"]
POLICIES = [rk.DEFAULT_POLICY, rk.get_policy("dbt_mrr_playbook"), rk.get_policy("chartmogul"),
            rk.DEFAULT_POLICY.replace(reactivation_window_months=2),
            rk.DEFAULT_POLICY.replace(fx_mode="fixed", churn_denominator="average",
                                      arpa_basis="average")]


def _book_parity(con, subs, fx, policy, by, kpi) -> None:
    subs = subs.assign(product=np.where(np.arange(len(subs)) % 3 == 0, "Analytics", "Core"))
    customers = pd.DataFrame({"customer_id": subs["customer_id"].unique()})
    customers["segment"] = np.where(np.arange(len(customers)) % 2 == 0, "SMB", "Enterprise")
    s = _on(con, subs)
    kw = {"customers": customers, "fx_rates": fx, "policy": policy}
    ctx = _quiet()
    try:
        _same(rk.mrr_movements(s, end="2026-01", fx_rates=fx, policy=policy),
              rk.mrr_movements(subs, end="2026-01", fx_rates=fx, policy=policy))
        _same(rk.mrr_bridge_series(s, PERIODS, by=by, **kw),
              rk.mrr_bridge_series(subs, PERIODS, by=by, **kw))
        if kpi == "cohorts":
            _same(rk.cohort_retention(s, end="2025-12", fx_rates=fx, policy=policy),
                  rk.cohort_retention(subs, end="2025-12", fx_rates=fx, policy=policy))
        else:
            func = getattr(rk, kpi)
            if kpi == "customer_counts":  # no conversion, no fx_rates argument
                kw = {k: v for k, v in kw.items() if k != "fx_rates"}
            _same(func(s, "2025-Q2", by=by, **kw), func(subs, "2025-Q2", by=by, **kw))
    finally:
        ctx.__exit__(None, None, None)


KPI_FUNCS = st.sampled_from(["logo_churn_rate", "nrr", "grr", "arpa", "customer_counts",
                             "cohorts"])
BYS = st.sampled_from([None, "segment", "product", "currency", ["segment", "currency"]])


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(books(), rates(), st.sampled_from(POLICIES), BYS, KPI_FUNCS)
def test_random_books_identical_in_duckdb(duckdb_con, subs, fx, policy, by, kpi):
    _book_parity(duckdb_con, subs, fx, policy, by, kpi)


@pytest.mark.postgres
@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(books(), rates(), st.sampled_from(POLICIES), BYS, KPI_FUNCS)
def test_random_books_identical_in_postgres(postgres_con, subs, fx, policy, by, kpi):
    _book_parity(postgres_con, subs, fx, policy, by, kpi)


@pytest.mark.spark
@settings(max_examples=2, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(books(max_customers=4), rates(), st.sampled_from(POLICIES), BYS, KPI_FUNCS)
def test_random_books_identical_in_spark(spark_con, subs, fx, policy, by, kpi):
    _book_parity(spark_con, subs, fx, policy, by, kpi)


# ---------------------------------------------------------------------- errors and dispatch
def test_bad_rows_and_missing_rates_are_named(duckdb_con):
    bad = GOLDEN.copy()
    bad.loc[2, "mrr"] = -5.0
    with pytest.raises(rk.RevOpsError, match=r"subscriptions\.mrr: check finite_non_negative "
                                             r"failed for 1 row\(s\), e\.g\. subscription_id=s3"):
        _on(duckdb_con, bad)
    eur = GOLDEN.assign(currency=np.where(GOLDEN["customer_id"] == "a", "EUR", "USD"))
    fx = pd.DataFrame({"month": pd.to_datetime(["2025-01-01"]), "currency": ["EUR"],
                       "rate": [1.1]})
    with pytest.raises(rk.RevOpsError) as pandas_error:
        rk.mrr_bridge(eur, "2025-Q1", fx_rates=fx)
    with pytest.raises(rk.RevOpsError) as sql_error:
        rk.mrr_bridge(_on(duckdb_con, eur), "2025-Q1", fx_rates=fx)
    assert str(sql_error.value) == str(pandas_error.value)
    assert "no rate for currency ['EUR']" in str(sql_error.value)


def test_pandas_only_kpis_are_skipped_with_the_reason(duckdb_con, sample):
    data = rk.from_frames({k: v for k, v in sample.tables().items() if k != "subscriptions"},
                          validate=False)
    data.subscriptions = _on(duckdb_con, sample.subscriptions)
    skipped: list[str] = []
    ctx = _quiet()
    try:
        out = rk.compute_kpis(data, "2025-Q4", skipped=skipped)
    finally:
        ctx.__exit__(None, None, None)
    assert set(SQL_KPIS) <= set(out["kpi"])
    reasons = dict(s.split(": ", 1) for s in skipped)
    assert "revenue_backlog" in reasons and "renewal_rate" in reasons
    assert all("needs the subscription rows in memory" in r for r in reasons.values())
    with pytest.raises(SQLEngineUnsupported, match="survival"):
        rk.survival_curves(data.subscriptions, customers=sample.customers)


# ---------------------------------------------------------------------- loading with an engine
def test_load_engine_sql_from_a_duckdb_file_and_a_parquet_folder(tmp_path, sample, monkeypatch):
    from revops_kit.adapters.warehouse import write_tables

    path = tmp_path / "wh.duckdb"
    write_tables(sample, path)
    data = rk.load(path, engine="sql")
    assert is_sql(data.subscriptions) and len(data.subscriptions) == len(sample.subscriptions)
    assert data.latest_full_period() == sample.latest_full_period()
    ids = ["mrr", "nrr", "logo_churn_rate"]
    _same(rk.compute_kpis(data, "2025-Q4", ids),
                                  rk.compute_kpis(sample, "2025-Q4", ids))
    # automatic choice: above the threshold a database source picks SQL and says so
    import revops_kit.engines as engines

    assert not is_sql(rk.load(path).subscriptions)
    monkeypatch.setattr(engines, "SQL_ROW_THRESHOLD", 100)
    auto = rk.load(path)
    assert is_sql(auto.subscriptions)
    assert any("more than 100" in n and "engine='sql'" in n for n in auto.notes)
    folder = tmp_path / "pq"
    folder.mkdir()
    sample.subscriptions.to_parquet(folder / "subscriptions.parquet")
    sample.fx_rates.to_parquet(folder / "fx_rates.parquet")
    pq = rk.load(folder, engine="sql")
    _same(rk.mrr(pq.subscriptions, "2025-Q4", fx_rates=pq.fx_rates),
                                  rk.mrr(sample.subscriptions, "2025-Q4",
                                         fx_rates=sample.fx_rates))
    with pytest.raises(rk.RevOpsError, match="engine must be one of"):
        rk.load(path, engine="spark")


@pytest.mark.postgres
def test_warehouse_kpis_without_pulling_subscription_rows(postgres_url, sample):  # noqa: F811
    from revops_kit.adapters.warehouse import write_tables

    write_tables(sample, postgres_url, schema="engine_sql")
    data = rk.load(postgres_url, schema="engine_sql", engine="sql")
    subs = data.subscriptions
    assert is_sql(subs) and subs.backend.name == "postgres"
    ctx = _quiet()
    try:
        got = rk.compute_kpis(data, "2025-Q4")
        want = rk.compute_kpis(sample, "2025-Q4")
        bridge = rk.mrr_bridge(subs, "2025-Q4", by="segment", customers=data.customers,
                               fx_rates=data.fx_rates)
        trend = rk.retention_trend(subs, ["2025-Q3", "2025-Q4"], fx_rates=data.fx_rates)
    finally:
        ctx.__exit__(None, None, None)
    _same(got.reset_index(drop=True),
                                  want[want["kpi"].isin(got["kpi"])].reset_index(drop=True))
    assert set(SQL_KPIS) <= set(got["kpi"]) and len(bridge) == 3 and len(trend) == 8
    # every row that came back from the database for subscriptions was an aggregate
    n = len(sample.subscriptions)
    assert subs.rows_fetched < 200, subs.rows_fetched
    assert n > 50 * subs.rows_fetched


@pytest.mark.postgres
def test_cli_kpis_engine_sql_against_postgres(postgres_url, sample):  # noqa: F811
    import json

    from click.testing import CliRunner

    from revops_kit.adapters.warehouse import write_tables
    from revops_kit.cli import main

    write_tables({"subscriptions": sample.subscriptions, "fx_rates": sample.fx_rates},
                 postgres_url, schema="public")
    res = CliRunner().invoke(main, ["kpis", "--data", postgres_url, "--engine", "sql",
                                    "--period", "2025-Q4", "--kpi", "mrr", "--kpi", "nrr",
                                    "--format", "json"])
    assert res.exit_code == 0, res.output
    got = {r["kpi"]: r["value"] for r in json.loads(res.stdout)["kpis"]}
    ctx = _quiet()
    try:
        want = rk.compute_kpis(sample, "2025-Q4", ["mrr", "nrr"]).set_index("kpi")["value"]
    finally:
        ctx.__exit__(None, None, None)
    assert got == pytest.approx(want.to_dict(), rel=0, abs=1e-9)
    assert "computed there" in res.stderr


# ---------------------------------------------------------------------- the report on engine="sql"
def test_handle_travels_to_another_process_as_how_to_reopen_it(tmp_path, sample):
    """A handle opened from a DuckDB file pickles as its source, schema and window (no rows);
    the copy connects on its first query. One on an in-memory frame refuses, naming why."""
    import pickle

    from revops_kit.adapters.warehouse import write_tables

    path = tmp_path / "wh.duckdb"
    write_tables(sample, path)
    data = rk.load(path, engine="sql", period="2025-Q4")
    blob = pickle.dumps(data.subscriptions)
    assert len(blob) < 5_000  # the recipe, not the 5,000+ rows
    copy = pickle.loads(blob)
    assert copy._table is None and copy.rows_fetched == 0  # nothing opened yet
    windowed = rk.load(path, engine="pandas", period="2025-Q4").subscriptions
    kw = {"customers": sample.customers, "fx_rates": sample.fx_rates}
    _same(rk.mrr_bridge(copy, "2025-Q4", by="segment", **kw),
          rk.mrr_bridge(windowed, "2025-Q4", by="segment", **kw))
    assert len(copy) == len(windowed) < len(sample.subscriptions)  # the window travelled too
    assert copy.has_values("currency") and not copy.has_values("no_such_column")
    with pytest.raises(rk.RevOpsError, match="cannot be sent to another process"):
        pickle.dumps(sql.SQLSubscriptions.from_frame(sample.subscriptions))


def test_top_movements_ranked_in_the_database(duckdb_con, sample):
    subs = _on(duckdb_con, sample.subscriptions)
    kw = {"customers": sample.customers, "fx_rates": sample.fx_rates}
    for period, n in (("2025-Q4", 8), ("2024-06", 3)):
        got = rk.top_movements(subs, period, n=n, **kw)
        want = rk.top_movements(sample.subscriptions, period, n=n, **kw)
        assert len(want) == 3 * n and set(want["category"]) == {"expansion", "contraction", "churn"}
        # the pandas engine sums float movements per customer, the database integer cents:
        # compared in cents
        cents = ["amount", "mrr_start", "mrr_end"]
        _same(got.drop(columns=cents), want.drop(columns=cents))
        assert (np.rint(got[cents] * 100) == np.rint(want[cents] * 100)).all().all()
    assert subs.rows_fetched < 100


def _tables(page: Path) -> list[str]:
    """The data tables of a report page, as rendered."""
    import re

    return re.findall(r'<table class="rk-table">.*?</table>', page.read_text(encoding="utf-8"), re.S)


def _kpis(folder: Path) -> pd.DataFrame:
    return pd.read_csv(folder / "kpis.csv", keep_default_na=False, dtype=str).set_index(["kpi", "group"])


@pytest.fixture(scope="module")
def pandas_revenue_report(tmp_path_factory):
    """The revenue page and kpis.csv of the pandas engine on the sample (2025-Q4)."""
    from revops_kit.report import NOTEBOOK_DIR, run_report

    return run_report("2025-Q4", data=rk.SAMPLE_DIR, out=tmp_path_factory.mktemp("pandas"),
                      notebooks=[NOTEBOOK_DIR / "10_revenue.ipynb"], progress=False, engine="pandas")


def _assert_revenue_page_like_pandas(folder: Path, pandas_folder: Path) -> None:
    """The SQL report's kpis.csv equals the pandas one for every KPI it computed (same text, to
    the cent), lists the others with an empty value and the reason, and the revenue page shows
    the same tables, with survival and the contract terms as data notes."""
    sql_kpis, pd_kpis = _kpis(folder), _kpis(pandas_folder)
    computed = sql_kpis[sql_kpis["note"] == ""]
    assert set(SQL_KPIS) <= set(computed.index.get_level_values("kpi"))
    pd.testing.assert_frame_equal(computed, pd_kpis.loc[computed.index])
    assert sql_kpis.loc[("mrr", "all"), "value"] == pd_kpis.loc[("mrr", "all"), "value"] == "6907896.32"
    skipped = sql_kpis[sql_kpis["note"] != ""]
    assert {"clv_survival", "revenue_backlog", "renewal_rate"} <= set(skipped.index.get_level_values("kpi"))
    assert (skipped["value"] == "").all()  # unknown, not 0
    assert skipped["note"].str.contains("needs the subscription rows in memory (engine=sql", regex=False).all()
    page = folder / "10_revenue.html"
    text = page.read_text(encoding="utf-8")
    notes = text.split("Data notes (", 1)[1]
    assert "Customer lifetimes (survival): not computed, it needs the subscription rows in memory (engine=sql)" in notes
    assert "revenue_backlog (contracts)" in notes
    sql_tables, pd_tables = _tables(page), _tables(pandas_folder / "10_revenue.html")
    # bridge, by segment, by currency, retention, largest movements, headline: as rendered by
    # pandas; contracts keeps its opportunity-based rows
    same = [t for t in sql_tables if t in pd_tables]
    assert len(same) >= 6 and len(sql_tables) - len(same) == 1, (len(sql_tables), len(same))
    assert "needs the subscription rows in memory (engine=sql)" in (set(sql_tables) - set(same)).pop()


@pytest.mark.postgres
@pytest.mark.slow
def test_report_engine_sql_against_postgres(postgres_url, sample, tmp_path,  # noqa: F811
                                            pandas_revenue_report):
    """``revops report --engine sql`` on the sample in PostgreSQL: exit 0, the revenue page and
    kpis.csv as the pandas engine's, and only aggregates fetched from subscriptions by the run
    and its notebook kernels (manifest ``sql_engine``, every fetch of every process counted)."""
    import json
    import subprocess
    import sys

    import sqlalchemy as sa

    from revops_kit.adapters.warehouse import engine_url, write_tables

    engine = sa.create_engine(engine_url(postgres_url), isolation_level="AUTOCOMMIT")
    with engine.connect() as con:
        con.execute(sa.text("DROP DATABASE IF EXISTS report_sql"))
        con.execute(sa.text("CREATE DATABASE report_sql"))
    engine.dispose()
    url = postgres_url.replace("/postgres?", "/report_sql?")
    write_tables(sample, url)
    out = tmp_path / "reports"
    proc = subprocess.run([sys.executable, "-c", "from revops_kit.cli import main; main()", "report",
                           "--data", url, "--engine", "sql", "--period", "2025-Q4", "--out", str(out),
                           "-j", "2", "--quiet"], capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout == "" and proc.stderr == ""
    folder = out / "2025-Q4"
    _assert_revenue_page_like_pandas(folder, pandas_revenue_report)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    fetched = manifest["sql_engine"]
    assert manifest["engine"] == "sql" and fetched["rows_in_table"] == len(sample.subscriptions)
    # the kernels that read subscriptions did so through the database: their pages say what
    # needs the rows in memory (a kernel that had loaded the rows with pandas would compute it)
    for page, note in (("45_churn", "The churn model: not computed"),
                       ("60_finance", "Customer lifetimes (survival): not computed"),
                       ("70_data_quality", "The data-quality checks: not computed")):
        assert note in (folder / f"{page}.html").read_text(encoding="utf-8"), page
    assert fetched["processes"] >= 5
    # aggregates only: a few hundred rows in all (months x groups, cohorts x ages), none larger
    # than a 24-month x segment series, against the 5,000+ subscription periods
    assert fetched["rows_fetched"] < 1_000, fetched
    assert fetched["largest_fetch_after_loading"] <= 200, fetched
    assert fetched["rows_in_table"] > 5 * fetched["rows_fetched"]


def test_report_engine_sql_on_a_duckdb_file(tmp_path, sample, pandas_revenue_report):
    """The revenue page of ``run_report(engine="sql")`` on a DuckDB file (its kernel reopens
    the file read-only) equals the pandas engine's."""
    from revops_kit.adapters.warehouse import write_tables
    from revops_kit.report import NOTEBOOK_DIR, run_report

    path = tmp_path / "wh.duckdb"
    write_tables(sample, path)
    folder = run_report("2025-Q4", data=path, out=tmp_path / "reports", engine="sql",
                        notebooks=[NOTEBOOK_DIR / "10_revenue.ipynb"], progress=False)
    _assert_revenue_page_like_pandas(folder, pandas_revenue_report)
