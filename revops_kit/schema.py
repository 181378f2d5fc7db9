"""The canonical data model as code, and its validation.

Each of the 14 tables of the design is a :class:`Table` of :class:`Col` specs (kind, required,
nullable, allowed values, bounds, keys). :func:`validate` checks a set of tables with pandera,
lazily, plus the cross-table checks (orphan ids, ``end_date > start_date`` ...) that pandera's
single-frame schemas cannot express, and raises one :class:`~revops_kit.errors.SchemaError` that
lists every failing table, column, check and up to five offending rows.

Size
----
Over 600 lines because about half of it is the data model itself: the 14 table declarations, a
screen each, which a user reads to learn what a column means and which checks it carries. They
stay beside the code that turns them into pandera checks so that a declaration and its
enforcement are read (and changed) together.

Row numbers in messages are 1-based data rows of the source file (the header is not counted), so
"row 3" is the third record under the header.

Why pandera: it is the ecosystem's standard for declaring frame schemas and collects every failure
case lazily. It has no notion of several related tables, so the cross-table checks are written
here and reported in the same failure-case format.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Iterable, Mapping

import numpy as np
import pandas as pd

from .errors import SchemaError

if TYPE_CHECKING:  # pragma: no cover
    import pandera.pandas as pa

_PANDERA = None


def _pa():
    """``pandera.pandas``, imported on first validation rather than with the package: with PySpark
    installed it costs ~0.3 s, which every report kernel paid without validating anything (the
    report's notebooks reuse the dataset validated once by ``report.py``).

    pandera imports PySpark when it is installed (our dev extra installs it for the SQL-engine
    tests), at import and again at the first validation, and PySpark then warns that it does not
    support pandas 3: noise about a library the pandas path does not use. One narrow filter for
    that message (process-wide: the second import happens inside validate)."""
    global _PANDERA
    if _PANDERA is None:
        warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas",
                                category=FutureWarning)
        import pandera.pandas as pa

        _PANDERA = pa
    return _PANDERA

__all__ = [
    "Col",
    "Table",
    "TABLES",
    "TABLE_NAMES",
    "COST_CATEGORIES",
    "CROSS_CHECKS",
    "column_checks",
    "value_check_failures",
    "validate",
    "validation_report",
    "format_failures",
]

#: Cost categories of the ``costs`` table. ``cac`` is fully loaded from the first five.
COST_CATEGORIES = (
    "marketing_programs",
    "marketing_payroll",
    "sales_payroll",
    "tools_infrastructure",
    "external_services",
    "customer_success",
    "cost_of_revenue",
    "research_development",
    "general_administrative",
)

MAX_ROWS_SHOWN = 5
#: Numbers beyond this magnitude (and non-finite ones) fail validation; see revops_kit.parsing.
MAX_ABS_NUMBER = 1e15
#: Dates must fall within [DATE_MIN, DATE_END).
DATE_MIN, DATE_END = pd.Timestamp("1900-01-01"), pd.Timestamp("2101-01-01")


@dataclass(frozen=True)
class Col:
    """One column of a canonical table.

    kind is one of ``id`` (string identifier), ``str``, ``date``, ``money`` (float, parsed from
    text such as ``"$1,200.50"``), ``float``, ``int``, ``bool``, ``currency`` (ISO 4217 code),
    ``period`` (a period label such as ``2025-Q1``).
    """

    name: str
    kind: str
    required: bool = False
    nullable: bool = True
    allowed: tuple | None = None
    ge: float | None = None
    le: float | None = None
    gt: float | None = None
    unique: bool = False
    doc: str = ""


@dataclass(frozen=True)
class Table:
    name: str
    grain: str
    columns: tuple[Col, ...]
    key: tuple[str, ...] = ()
    date_column: str | None = None
    doc: str = ""

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def col(self, name: str) -> Col | None:
        return next((c for c in self.columns if c.name == name), None)

    def columns_of_kind(self, *kinds: str) -> list[str]:
        return [c.name for c in self.columns if c.kind in kinds]


def _req(name: str, kind: str, **kw) -> Col:
    return Col(name, kind, required=True, nullable=kw.pop("nullable", False), **kw)


_CURRENCY = Col("currency", "currency", doc="ISO 4217 code; missing means the reporting currency")

TABLES: dict[str, Table] = {
    t.name: t
    for t in [
        Table(
            "customers",
            "one row per customer",
            (
                _req("customer_id", "id", unique=True),
                Col("name", "str"),
                Col("domain", "str", doc="web domain, used to spot duplicate accounts"),
                Col("segment", "str"),
                Col("region", "str"),
                Col("country", "str"),
                Col("industry", "str"),
                Col("acquisition_channel", "str"),
                Col("owner", "str", doc="account owner / CSM"),
                Col("created_at", "date"),
            ),
            key=("customer_id",),
            date_column="created_at",
        ),
        Table(
            "subscriptions",
            "one row per recurring-revenue period of a customer's product line",
            (
                _req("subscription_id", "id", unique=True),
                _req("customer_id", "id"),
                _req("start_date", "date"),
                _req("end_date", "date", nullable=True, doc="exclusive; empty = still running"),
                _req("mrr", "money", ge=0),
                _CURRENCY,
                Col("product", "str"),
                Col("plan", "str"),
                Col("quantity", "float", ge=0),
                Col("committed_end_date", "date", doc="contract term end"),
            ),
            key=("subscription_id",),
            date_column="start_date",
        ),
        Table(
            "invoices",
            "one row per invoice",
            (
                _req("invoice_id", "id", unique=True),
                _req("customer_id", "id"),
                _req("issued_at", "date"),
                _req("amount", "money", ge=0),
                _CURRENCY,
                Col("due_at", "date"),
                Col("paid_at", "date"),
                Col("kind", "str", allowed=("recurring", "one_time", "services")),
                Col("cost_of_revenue", "money", ge=0),
                Col("service_start", "date", doc="first day of the service the invoice covers"),
                Col("service_end", "date", doc="exclusive end of the service period"),
            ),
            key=("invoice_id",),
            date_column="issued_at",
        ),
        Table(
            "opportunities",
            "one row per CRM opportunity (current state)",
            (
                _req("opportunity_id", "id", unique=True),
                _req("created_at", "date"),
                _req("stage", "str"),
                _req("amount", "money", ge=0, nullable=True, doc="missing amounts are flagged"),
                Col("customer_id", "id"),
                Col("owner", "str"),
                Col("team", "str"),
                Col("source", "str"),
                Col("type", "str", allowed=("new_business", "expansion", "renewal")),
                Col("close_date", "date"),
                Col("is_closed", "bool"),
                Col("is_won", "bool"),
                Col("probability", "float", ge=0, le=1, doc="fraction 0-1"),
                Col(
                    "forecast_category",
                    "str",
                    allowed=("pipeline", "best_case", "commit", "closed", "omitted"),
                ),
                Col("term_months", "float", ge=0),
                _CURRENCY,
                Col("product", "str"),
            ),
            key=("opportunity_id",),
            date_column="created_at",
        ),
        Table(
            "opportunity_history",
            "one row per change of an opportunity",
            (
                _req("opportunity_id", "id"),
                _req("changed_at", "date"),
                _req("stage", "str"),
                Col("amount", "money", ge=0),
                Col("close_date", "date"),
                Col(
                    "forecast_category",
                    "str",
                    allowed=("pipeline", "best_case", "commit", "closed", "omitted"),
                ),
                Col("is_closed", "bool"),
                Col("is_won", "bool"),
            ),
            date_column="changed_at",
        ),
        Table(
            "leads",
            "one row per lead",
            (
                _req("lead_id", "id", unique=True),
                _req("created_at", "date"),
                Col("channel", "str"),
                Col("campaign", "str"),
                Col("mql_at", "date"),
                Col("sql_at", "date"),
                Col("opportunity_id", "id"),
                Col("customer_id", "id"),
                Col("trial_started_at", "date"),
                Col("converted_at", "date", doc="date the lead became a paying customer"),
            ),
            key=("lead_id",),
            date_column="created_at",
        ),
        Table(
            "costs",
            "one row per month x category (x channel)",
            (
                _req("month", "date"),
                _req("category", "str", allowed=COST_CATEGORIES),
                _req("amount", "money", ge=0),
                Col("channel", "str"),
                _CURRENCY,
            ),
            key=("month", "category", "channel"),
            date_column="month",
        ),
        Table(
            "support_tickets",
            "one row per ticket",
            (
                _req("ticket_id", "id", unique=True),
                _req("customer_id", "id"),
                _req("opened_at", "date"),
                Col("closed_at", "date"),
                Col("priority", "str", allowed=("low", "normal", "high", "urgent")),
                Col("csat", "float", ge=1, le=5, doc="1-5 satisfaction after closing"),
            ),
            key=("ticket_id",),
            date_column="opened_at",
        ),
        Table(
            "nps_responses",
            "one row per survey answer",
            (
                _req("customer_id", "id"),
                _req("responded_at", "date"),
                _req("score", "int", ge=0, le=10),
            ),
            date_column="responded_at",
        ),
        Table(
            "product_usage",
            "one row per customer x month",
            (
                _req("customer_id", "id"),
                _req("month", "date"),
                Col("active_users", "float", ge=0),
                Col("licensed_seats", "float", ge=0),
                Col("feature_events", "float", ge=0),
            ),
            key=("customer_id", "month"),
            date_column="month",
        ),
        Table(
            "quotas",
            "one row per owner x period",
            (
                _req("owner", "str"),
                _req("period", "period"),
                _req("amount", "money", ge=0),
                Col("team", "str"),
            ),
            key=("owner", "period"),
        ),
        Table(
            "forecast_submissions",
            "one row per submitted forecast",
            (
                _req("submitted_at", "date"),
                _req("period", "period"),
                _req("amount", "money", ge=0),
                Col("owner", "str"),
                Col("team", "str"),
                Col("category", "str", allowed=("commit", "best_case", "pipeline")),
            ),
            date_column="submitted_at",
        ),
        Table(
            "targets",
            "one row per KPI x period (x segment)",
            (
                _req("kpi", "str"),
                _req("period", "period"),
                _req("target", "float"),
                Col("segment", "str"),
                Col("owner", "str"),
                Col("baseline", "float"),
            ),
            key=("kpi", "period", "segment"),
        ),
        Table(
            "fx_rates",
            "one row per month x currency",
            (
                _req("month", "date"),
                _req("currency", "currency"),
                _req("rate", "float", gt=0, doc="units of reporting currency per unit"),
            ),
            key=("month", "currency"),
            date_column="month",
        ),
    ]
}

TABLE_NAMES: tuple[str, ...] = tuple(TABLES)


# ---------------------------------------------------------------------------- single tables
def _kind_check(col: Col) -> pa.Check | None:
    if col.kind == "currency":
        return _pa().Check.str_matches(r"^[A-Z]{3}$", name="iso_4217_code")
    if col.kind == "period":
        from .periods import Period

        def _parses(v) -> bool:
            try:
                Period.parse(v)
                return True
            except ValueError:
                return False

        return _pa().Check(_parses, element_wise=True, name="valid_period_label")
    return None


def column_checks(col: Col) -> list[pa.Check]:
    """The pandera value checks the schema declares for ``col``: allowed values, bounds
    (``ge``/``gt``/``le``), a 3-letter ISO 4217 code (currency columns) and a parsable period
    label (period columns). Nullability, uniqueness and dtypes are checked separately."""
    checks = []
    if col.allowed is not None:
        checks.append(_pa().Check.isin(list(col.allowed), name=f"allowed_values{list(col.allowed)}"))
    if col.ge is not None:
        checks.append(_pa().Check.ge(col.ge, name=f"greater_or_equal({col.ge:g})"))
    if col.gt is not None:
        checks.append(_pa().Check.gt(col.gt, name=f"greater_than({col.gt:g})"))
    if col.le is not None:
        checks.append(_pa().Check.le(col.le, name=f"less_or_equal({col.le:g})"))
    extra = _kind_check(col)
    if extra is not None:
        checks.append(extra)
    return checks


def value_check_failures(table: str, frame: pd.DataFrame, columns: Iterable[str] | None = None) -> pd.DataFrame:
    """Run the schema's pandera value checks (:func:`column_checks`) of ``table`` on ``frame``.

    Lazy, like :func:`validate`, but only the value checks of the given ``columns`` (default: every
    column of the table present in ``frame``); missing values pass (nullability is not checked).

    Returns
    -------
    DataFrame
        One row per failing value: ``index`` (the label in ``frame``; missing when the check could
        not run on the column at all, e.g. a bound on text), ``column``, ``check`` (the pandera
        check name) and ``failure_case``.
    """
    spec = TABLES[table]
    wanted = set(spec.column_names if columns is None else columns)
    schema_cols = {c.name: _pa().Column(None, checks=column_checks(c), nullable=True, required=False)
                   for c in spec.columns if c.name in wanted and c.name in frame.columns and column_checks(c)}
    out_cols = ["index", "column", "check", "failure_case"]
    if not schema_cols or frame.empty:
        return pd.DataFrame(columns=out_cols)
    try:
        _pa().DataFrameSchema(schema_cols, strict=False, name=table).validate(frame, lazy=True)
    except _pa().errors.SchemaErrors as exc:
        cases = exc.failure_cases
        return cases.reindex(columns=out_cols).reset_index(drop=True)
    return pd.DataFrame(columns=out_cols)


def _pandera_schema(table: Table, frame: pd.DataFrame) -> pa.DataFrameSchema:
    columns = {}
    for col in table.columns:
        if col.name not in frame.columns:
            continue
        columns[col.name] = _pa().Column(
            None, checks=column_checks(col), nullable=col.nullable, unique=col.unique, required=False
        )
    unique = list(table.key) if len(table.key) > 1 and set(table.key) <= set(frame.columns) else None
    return _pa().DataFrameSchema(columns, unique=unique, strict=False, name=table.name)


_KIND_DTYPE_TEST: dict[str, Callable[[pd.Series], bool]] = {
    "date": pd.api.types.is_datetime64_any_dtype,
    "money": pd.api.types.is_numeric_dtype,
    "float": pd.api.types.is_numeric_dtype,
    "int": pd.api.types.is_numeric_dtype,
    "bool": lambda s: pd.api.types.is_bool_dtype(s) or s.dtype == object,
}


def _failure(table, column, check, rows=(), values=(), n=None, detail: str = "") -> dict:
    rows = list(rows)
    return {
        "table": table,
        "column": column,
        "check": check,
        "n_failing": len(rows) if n is None else n,
        "rows": rows[:MAX_ROWS_SHOWN],
        "values": [_show(v) for v in list(values)[:MAX_ROWS_SHOWN]],
        "detail": detail,
    }


REPORT_COLUMNS = ["table", "column", "check", "n_failing", "rows", "values", "detail"]


def _show(value) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "<missing>"
    if isinstance(value, pd.Timestamp):
        return str(value.date())
    return repr(value) if isinstance(value, str) else str(value)


def _row_numbers(frame: pd.DataFrame, index_values) -> list[int]:
    """1-based data-row numbers of the given index labels (the loader keeps a 0-based RangeIndex)."""
    return [int(i) + 1 if isinstance(i, (int, np.integer)) else i for i in index_values]


def _check_table(table: Table, frame: pd.DataFrame) -> list[dict]:
    failures: list[dict] = []
    missing = [c for c in table.required_columns if c not in frame.columns]
    for name in missing:
        failures.append(_failure(table.name, name, "required_column_present", n=1))
    for col in table.columns:
        test = _KIND_DTYPE_TEST.get(col.kind)
        if col.name in frame.columns and test is not None and not test(frame[col.name]):
            failures.append(
                _failure(table.name, col.name, f"dtype_is_{col.kind}", n=1,
                         values=[str(frame[col.name].dtype)])
            )
    for col in table.columns:
        if col.name not in frame.columns:
            continue
        series = frame[col.name]
        if col.kind in ("money", "float", "int") and pd.api.types.is_numeric_dtype(series) \
                and not pd.api.types.is_bool_dtype(series):
            v = series.astype("float64")
            bad = v.notna() & ~(np.isfinite(v) & (v.abs() <= MAX_ABS_NUMBER))
            if bad.any():
                failures.append(_failure(table.name, col.name, f"finite_and_within_1e{int(np.log10(MAX_ABS_NUMBER))}",
                                         _row_numbers(frame, frame.index[bad]), series[bad].tolist(),
                                         n=int(bad.sum()),
                                         detail="infinite, NaN-like or absurdly large number"))
        elif col.kind == "date" and pd.api.types.is_datetime64_any_dtype(series):
            bad = series.notna() & ((series < DATE_MIN) | (series >= DATE_END))
            if bad.any():
                failures.append(_failure(table.name, col.name, "date_within_1900_2100",
                                         _row_numbers(frame, frame.index[bad]), series[bad].tolist(),
                                         n=int(bad.sum())))
    frame = _finite_only(table, frame)
    schema = _pandera_schema(table, frame)
    try:
        schema.validate(frame, lazy=True)
    except _pa().errors.SchemaErrors as exc:
        cases = exc.failure_cases
        for (column, check), group in cases.groupby(["column", "check"], sort=False, dropna=False):
            column = table.name if pd.isna(column) else column
            if check == "multiple_fields_uniqueness" or (isinstance(check, str) and "unique" in check and column == table.name):
                column = "+".join(table.key)
                check = "unique_key"
            if check == "field_uniqueness":
                check = "unique"
            idx = [i for i in group["index"].tolist() if not pd.isna(i)]
            idx = sorted(set(idx), key=lambda v: (str(type(v)), v))
            failures.append(
                _failure(table.name, column, str(check), _row_numbers(frame, idx),
                         group["failure_case"].tolist(), n=len(idx) or len(group))
            )
    return failures


def _finite_only(table: Table, frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with non-finite / absurd numbers blanked, so that the range checks do not report
    them a second time (they fail ``finite_and_within_1e15`` already)."""
    out = None
    for col in table.columns:
        if col.kind in ("money", "float", "int") and col.name in frame.columns and \
                pd.api.types.is_float_dtype(frame[col.name]):
            v = frame[col.name]
            bad = v.notna() & ~(np.isfinite(v) & (v.abs() <= MAX_ABS_NUMBER))
            if bad.any():
                out = frame.copy() if out is None else out
                out[col.name] = v.where(~bad, np.nan if col.nullable else 0.0)
    return frame if out is None else out


# ---------------------------------------------------------------------------- cross-table checks
@dataclass(frozen=True)
class CrossCheck:
    """A check that needs one or two tables; it runs when all its tables are present."""

    name: str
    tables: tuple[str, ...]
    column: str
    func: Callable[..., pd.Series] = field(repr=False)  # returns a boolean mask of failing rows of tables[0]


def _orphans(child_col: str, parent: str = "customers", parent_col: str = "customer_id"):
    def check(child: pd.DataFrame, parent_df: pd.DataFrame) -> pd.Series:
        if child_col not in child.columns or parent_col not in parent_df.columns:
            return pd.Series(False, index=child.index)
        known = set(parent_df[parent_col].dropna())
        return child[child_col].notna() & ~child[child_col].isin(known)

    return check


def _after(later: str, earlier: str, strict: bool = True):
    def check(frame: pd.DataFrame) -> pd.Series:
        if later not in frame.columns or earlier not in frame.columns:
            return pd.Series(False, index=frame.index)
        a, b = frame[later], frame[earlier]
        bad = (a <= b) if strict else (a < b)
        return bad.fillna(False).astype(bool)

    return check


def _won_implies_closed(frame: pd.DataFrame) -> pd.Series:
    if "is_won" not in frame.columns or "is_closed" not in frame.columns:
        return pd.Series(False, index=frame.index)
    won = frame["is_won"].astype("boolean").fillna(False)
    closed = frame["is_closed"].astype("boolean").fillna(False)
    return (won & ~closed).astype(bool)


CROSS_CHECKS: tuple[CrossCheck, ...] = (
    CrossCheck("end_date_after_start_date", ("subscriptions",), "end_date", _after("end_date", "start_date")),
    CrossCheck("committed_end_after_start", ("subscriptions",), "committed_end_date",
               _after("committed_end_date", "start_date")),
    CrossCheck("due_not_before_issue", ("invoices",), "due_at", _after("due_at", "issued_at", strict=False)),
    CrossCheck("closed_not_before_opened", ("support_tickets",), "closed_at",
               _after("closed_at", "opened_at", strict=False)),
    CrossCheck("won_implies_closed", ("opportunities",), "is_won", _won_implies_closed),
    CrossCheck("customer_exists", ("subscriptions", "customers"), "customer_id", _orphans("customer_id")),
    CrossCheck("customer_exists", ("invoices", "customers"), "customer_id", _orphans("customer_id")),
    CrossCheck("customer_exists", ("opportunities", "customers"), "customer_id", _orphans("customer_id")),
    CrossCheck("customer_exists", ("support_tickets", "customers"), "customer_id", _orphans("customer_id")),
    CrossCheck("customer_exists", ("nps_responses", "customers"), "customer_id", _orphans("customer_id")),
    CrossCheck("customer_exists", ("product_usage", "customers"), "customer_id", _orphans("customer_id")),
    CrossCheck("customer_exists", ("leads", "customers"), "customer_id", _orphans("customer_id")),
    CrossCheck("opportunity_exists", ("opportunity_history", "opportunities"), "opportunity_id",
               _orphans("opportunity_id", "opportunities", "opportunity_id")),
    CrossCheck("opportunity_exists", ("leads", "opportunities"), "opportunity_id",
               _orphans("opportunity_id", "opportunities", "opportunity_id")),
)


#: Tables carrying money with a ``currency`` column, and the date whose month picks the FX rate.
MONEY_TABLES: dict[str, str] = {"subscriptions": "start_date", "invoices": "issued_at",
                                "opportunities": "created_at", "costs": "month"}


def _fx_coverage(tables: Mapping[str, pd.DataFrame]) -> list[dict]:
    """Every currency used by a money table must have FX rates (when fx_rates is present), for the
    month of the row's date where that month lies inside the fx_rates range.

    The reporting currency needs no rate: it is the default policy's currency, or one whose rates
    are all 1.
    """
    fx = tables.get("fx_rates")
    if fx is None or "currency" not in fx.columns or "month" not in fx.columns:
        return []
    from .policies import DEFAULT_POLICY

    rates = fx.dropna(subset=["currency"])
    base = {DEFAULT_POLICY.reporting_currency}
    if "rate" in rates.columns and pd.api.types.is_numeric_dtype(rates["rate"]):
        base |= {c for c, r in rates.groupby("currency")["rate"] if (r == 1).all()}
    known = set(rates["currency"])
    months = set()
    if pd.api.types.is_datetime64_any_dtype(rates["month"]):
        months = set(zip(rates["month"].dt.to_period("M"), rates["currency"]))
        first, last = rates["month"].min().to_period("M"), rates["month"].max().to_period("M")
    failures = []
    for name, date_col in MONEY_TABLES.items():
        frame = tables.get(name)
        if frame is None or "currency" not in frame.columns:
            continue
        cur = frame["currency"]
        foreign = cur.notna() & ~cur.isin(base)
        unknown = foreign & ~cur.isin(known)
        if unknown.any():
            failures.append(_failure(name, "currency", "currency_has_fx_rates",
                                     _row_numbers(frame, frame.index[unknown]), cur[unknown].tolist(),
                                     n=int(unknown.sum()),
                                     detail=f"fx_rates has rates for {sorted(known)} only"))
        if months and date_col in frame.columns and pd.api.types.is_datetime64_any_dtype(frame[date_col]):
            sel = foreign & ~unknown & frame[date_col].notna()
            if sel.any():
                m = frame.loc[sel, date_col].dt.to_period("M")
                inside = (m >= first) & (m <= last)
                gap = pd.Series([(a, b) not in months for a, b in zip(m, cur[sel])], index=m.index) & inside
                if gap.any():
                    idx = gap.index[gap]
                    failures.append(_failure(name, date_col, "fx_rate_for_month",
                                             _row_numbers(frame, idx),
                                             [f"{c} {p}" for c, p in zip(cur[idx], m[idx])], n=int(gap.sum()),
                                             detail="no fx_rates row for that currency and month"))
    return failures


# ---------------------------------------------------------------------------- entry points
def validation_report(tables: Mapping[str, pd.DataFrame | None]) -> pd.DataFrame:
    """Every failure of every present table, as a frame (empty when all is well).

    Columns: ``table, column, check, n_failing, rows, values`` — ``rows`` holds up to five
    1-based data-row numbers and ``values`` the offending values.
    """
    present = {k: v for k, v in tables.items() if v is not None}
    failures: list[dict] = []
    for name, frame in present.items():
        if name in TABLES:
            failures.extend(_check_table(TABLES[name], frame))
    for check in CROSS_CHECKS:
        if not all(t in present for t in check.tables):
            continue
        frames = [present[t] for t in check.tables]
        if any(c not in frames[0].columns for c in [check.column]) and len(check.tables) == 1:
            continue
        try:
            mask = check.func(*frames)
        except TypeError as exc:  # incomparable dtypes: reported by the dtype check already
            failures.append(_failure(check.tables[0], check.column, check.name, n=1, values=[str(exc)]))
            continue
        if mask.any():
            child = frames[0]
            failures.append(
                _failure(check.tables[0], check.column, check.name,
                         _row_numbers(child, child.index[mask]),
                         child.loc[mask, check.column].tolist() if check.column in child.columns else [],
                         n=int(mask.sum()))
            )
    failures.extend(_fx_coverage(present))
    return pd.DataFrame(failures, columns=REPORT_COLUMNS)


def format_failures(report: pd.DataFrame) -> str:
    """Readable table of a :func:`validation_report`."""
    lines = [f"{len(report)} schema check(s) failed:"]
    header = f"  {'table':<22}{'column':<24}{'check':<34}{'failing':>8}  rows (values)"
    lines.append(header)
    for r in report.itertuples(index=False):
        shown = ", ".join(
            f"{row} ({val})" if i < len(r.values) else f"{row}"
            for i, (row, val) in enumerate(zip(r.rows, list(r.values) + [None] * len(r.rows)))
        ) if r.rows else (", ".join(r.values) if len(r.values) else "")
        more = f" ... and {r.n_failing - len(r.rows)} more" if r.rows and r.n_failing > len(r.rows) else ""
        detail = getattr(r, "detail", "") or ""
        detail = f" — {detail}" if isinstance(detail, str) and detail else ""
        lines.append(f"  {r.table:<22}{str(r.column):<24}{r.check:<34}{r.n_failing:>8}  {shown}{more}{detail}")
    return "\n".join(lines)


def validate(tables: Mapping[str, pd.DataFrame | None]) -> None:
    """Validate all present tables lazily; raise one :class:`SchemaError` listing every failure.

    >>> import pandas as pd
    >>> subs = pd.DataFrame({"subscription_id": ["s1"], "customer_id": ["c1"],
    ...     "start_date": pd.to_datetime(["2024-02-01"]), "end_date": pd.to_datetime(["2024-01-01"]),
    ...     "mrr": [-5.0]})
    >>> validate({"subscriptions": subs})
    Traceback (most recent call last):
    ...
    revops_kit.errors.SchemaError: 2 schema check(s) failed: ...
    """
    report = validation_report(tables)
    if len(report):
        text = format_failures(report)
        raise SchemaError(text, failures=report)
