"""Connecting to a source and loading a dataset with ``engine="sql"`` (``rk.load(..., engine=)``)."""

from __future__ import annotations

import re
from pathlib import Path

from ...errors import DataNotFoundError
from ._core import _ibis
from .table import SQLSubscriptions

__all__ = ["connect", "open_subscriptions", "count_rows", "load_with_engine"]


def connect(source: str, *, duckdb_config: dict | None = None):
    """An Ibis backend for a database URL or DuckDB file (``postgresql://``, ``duckdb:///``,
    ``*.duckdb``; other URLs through ``ibis.connect``)."""
    ibis = _ibis()
    text = str(source)
    if text.startswith("duckdb://") or ("://" not in text and Path(text).suffix.lower() in
                                         (".duckdb", ".ddb")):
        path = re.sub(r"^duckdb:///?", "", text) if text.startswith("duckdb:") else text
        if path and path != ":memory:" and not Path(path).exists():
            raise DataNotFoundError(f"DuckDB file {path!r} does not exist")
        return ibis.duckdb.connect(path or ":memory:", read_only=bool(path) and path != ":memory:",
                                   **(duckdb_config or {}))
    if text.startswith(("postgresql", "postgres://")):
        from urllib.parse import parse_qs, unquote, urlsplit

        u = urlsplit(re.sub(r"^postgres(ql)?(\+\w+)?://", "postgresql://", text))
        q = {k: v[-1] for k, v in parse_qs(u.query).items()}
        kw = {"user": unquote(u.username) if u.username else None,
              "password": unquote(u.password) if u.password else None,
              "host": q.pop("host", None) or u.hostname,
              "port": int(q.pop("port", None) or u.port or 5432),
              "database": u.path.lstrip("/") or None}
        return ibis.postgres.connect(**{k: v for k, v in kw.items() if v is not None}, **q)
    return ibis.connect(text)


def open_subscriptions(source: str | Path, *, schema: str | None = None, validate: bool = True,
                       duckdb_config: dict | None = None, since=None, until=None,
                       period=None) -> SQLSubscriptions:
    """The ``subscriptions`` table (or view) of a database, or the ``subscriptions.parquet`` /
    ``.csv`` file of a folder (scanned by DuckDB), as an :class:`SQLSubscriptions`.

    ``duckdb_config`` (e.g. ``{"memory_limit": "4GB", "temp_directory": "/tmp/spill"}``) is
    passed to DuckDB when it does the scanning. ``since``/``until``/``period`` keep the periods
    that overlap that window (filtered in the backend, as ``rk.load`` does).

    The handle remembers these arguments: pickled, it travels as *how to reopen it* and the copy
    connects on its first query (see :class:`SQLSubscriptions`)."""
    ibis = _ibis()
    text = str(source)
    from ...adapters.warehouse import _safe_url, make_window

    if "://" not in text and Path(text).exists():
        text = str(Path(text).resolve())  # another process (a notebook kernel) may run elsewhere
    reopen = (open_subscriptions, {"source": text, "schema": schema, "validate": False,
                                   "duckdb_config": duckdb_config, "since": since,
                                   "until": until, "period": period})
    if "://" not in text and Path(text).is_dir():
        folder = Path(text)
        con = ibis.duckdb.connect(**(duckdb_config or {}))
        pq, csv = folder / "subscriptions.parquet", folder / "subscriptions.csv"
        if pq.exists():
            table = con.read_parquet(str(pq), table_name="subscriptions")
        elif csv.exists():
            table = con.read_csv(str(csv), table_name="subscriptions")
        else:
            raise DataNotFoundError(f"{folder} has no subscriptions.parquet or subscriptions.csv")
        label = f"{folder} (DuckDB scan)"
    else:
        con = connect(text, duckdb_config=duckdb_config)
        names = {n.lower(): n for n in con.list_tables(database=schema)} if schema else \
            {n.lower(): n for n in con.list_tables()}
        real = names.get("subscriptions")
        if real is None:
            raise DataNotFoundError(f"database {_safe_url(text)} has no table or view "
                                    f"'subscriptions'" + (f" in schema {schema}" if schema else ""))
        table = con.table(real, database=schema) if schema else con.table(real)
        label = _safe_url(text)
    subs = SQLSubscriptions(table, source=label, validate=validate, reopen=reopen)
    window = make_window(since, until, period)
    if not window:
        return subs
    t = subs.table
    cond = []
    if window.until is not None:
        cond.append(t.start_date < window.until.to_pydatetime().date())
    if window.since is not None:
        cond.append(t.end_date.isnull() | (t.end_date > window.since.to_pydatetime().date()))
    return SQLSubscriptions(t.filter(*cond), source=label, validate=False, reopen=reopen)


def count_rows(source: str | Path, *, schema: str | None = None) -> int | None:
    """Rows of the ``subscriptions`` table of a database (``None`` when it has none)."""
    try:
        subs = open_subscriptions(source, schema=schema, validate=False)
    except Exception:  # no such table, or a database Ibis cannot open: let pandas load it
        return None
    try:
        return len(subs)
    finally:
        try:
            subs.backend.disconnect()  # do not hold a DuckDB file open behind the loader
        except Exception:  # pragma: no cover - backend specific
            pass


def load_with_engine(load, path, *, engine: str | None, tables=None, mapping=None, since=None,
                     until=None, period=None, schema=None, validate: bool = True):
    """The dataset of ``rk.load(path, engine=...)`` when the SQL engine is chosen, else ``None``
    (the caller then loads with pandas as usual).

    ``engine="sql"``: every table but ``subscriptions`` is loaded as usual (``load`` with
    ``tables=`` the others); ``subscriptions`` becomes an :class:`SQLSubscriptions` on the
    database (or a DuckDB scan of the folder's ``subscriptions.parquet``/``.csv``), its columns
    checked in the backend; a time window filters it there too. ``engine=None`` (auto): the same
    for a database URL or DuckDB file whose ``subscriptions`` has more than
    :data:`~revops_kit.engines.SQL_ROW_THRESHOLD` rows, with a note saying so.
    """
    from ...adapters.warehouse import is_database
    from ...schema import TABLE_NAMES
    from .. import SQL_ROW_THRESHOLD, EngineError, check_engine

    engine = check_engine(engine)
    if engine == "pandas":
        return None
    source = str(path)
    wanted = list(tables) if tables is not None else list(TABLE_NAMES)
    if "subscriptions" not in wanted:
        return None
    auto_note = None
    if engine is None:
        if mapping is not None or not is_database(source):
            return None
        try:
            import ibis  # noqa: F401
        except ImportError:  # the [sql] extra is not installed: pandas it is
            return None
        n = count_rows(source, schema=schema)
        if n is None or n <= SQL_ROW_THRESHOLD:
            return None
        auto_note = (f"subscriptions has {n:,} rows (more than {SQL_ROW_THRESHOLD:,}): the month "
                     f"grid and its KPIs are computed in the database (engine='sql'); pass "
                     f"engine='pandas' to read the rows into memory instead")
    elif mapping is not None or source.lower().endswith((".yaml", ".yml")):
        raise EngineError("engine='sql' reads a database, a DuckDB file or a folder with "
                          "subscriptions.parquet/.csv; it does not apply a column mapping (use "
                          "a database view named subscriptions instead)")
    subs = open_subscriptions(source, schema=schema, validate=validate, since=since, until=until,
                              period=period)
    others = [t for t in wanted if t != "subscriptions"]
    data = None
    if others:
        try:
            data = load(path, tables=others, since=since, until=until, period=period,
                        schema=schema, validate=validate, engine="pandas")
        except DataNotFoundError:
            data = None
    if data is None:
        from ...io import RevOpsData

        data = RevOpsData(source=subs.source)
    data.subscriptions = subs
    data.notes.append(auto_note or "subscriptions stay in the database (engine='sql'): the month "
                      "grid and its KPIs are computed there; KPIs that need the raw rows are "
                      "skipped with a note")
    if validate:
        data.notes.append("subscriptions checked in the database: customer_id and start_date "
                          "present, mrr finite and >= 0, end_date after start_date (cross-table "
                          "checks with customers are not run on engine='sql')")
    return data

