"""The KPI catalogue: every KPI declared once, on the public function that computes it.

Domain modules decorate their public KPI functions with :func:`register`::

    @register("nrr", label="Net revenue retention", unit="ratio", good="up", family="retention",
              aggregation="ratio", sections={"revenue": 3}, headline=True,
              formula="...", tables=("subscriptions",))
    def nrr(subscriptions, period, *, by=None, customers=None, fx_rates=None, policy=DEFAULT_POLICY):
        ...

The catalogue calls the function itself with the dataset's tables bound **by parameter name**:
a parameter named after a canonical table (``subscriptions``, ``customers``, ``fx_rates``,
``quotas`` …, and ``history`` for ``opportunity_history``) gets that table (``None`` when the
dataset lacks it); ``period``, ``by`` and ``policy`` are passed when the function takes them;
``params`` fixes other arguments (one function can back several KPIs) and ``bind`` computes an
argument from ``(data, by, policy)``. ``tables`` are the tables it needs (a missing one skips the
KPI with that reason; ``policy_tables(policy)`` adds those a policy choice needs), ``columns`` the optional columns it needs (``{table: (column, ...)}``, or a
callable of the policy returning that), ``value`` the result column to report when it is not
``value``. A function whose first parameter is ``data`` is called as
``func(data, period, *, by, policy)`` (an adapter, for KPIs that are not one function call).

Everything else is derived from the entries: the section headline lists (:func:`section_kpis`),
the KPIs summed over a period (:func:`cumulative_kpis`, used for pacing against targets),
``revops kpis``, the report's ``kpis.csv``/``kpis.json`` and scorecard, and ``docs/metrics.md``.
Results come back in long format (:data:`LONG_COLUMNS`).
"""

from __future__ import annotations

import inspect
import warnings
from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping

import numpy as np
import pandas as pd

from .errors import MissingColumnError, MissingTableError, NotGroupableError, RevOpsError, UnknownKPIError
from .periods import Period, PeriodLike, as_period
from .policies import DEFAULT_POLICY, MetricPolicy, get_policy
from .schema import TABLE_NAMES

__all__ = [
    "KPI",
    "register",
    "get_kpi",
    "list_kpis",
    "catalog_frame",
    "compute_kpis",
    "metrics_markdown",
    "section_kpis",
    "cumulative_kpis",
    "kpi_ids",
    "SkippedKPI",
    "skipped_frame",
    "MissingColumnError",
    "LONG_COLUMNS",
    "EXTRA_COLUMNS",
    "UNITS",
    "DIRECTIONS",
    "AGGREGATIONS",
    "NotGroupableError",
]

UNITS = ("currency", "ratio", "count", "days", "months", "multiple", "score")
DIRECTIONS = ("up", "down", "neutral")
#: How a KPI aggregates over a period: ``sum`` (a flow summed over the period's months: bookings,
#: new MRR — pro-rated against a target while the period runs), ``level`` (a stock at the period's
#: end: MRR, open pipeline), ``ratio`` (a ratio or average of period quantities: NRR, win rate).
AGGREGATIONS = ("sum", "level", "ratio")
LONG_COLUMNS = ["period", "kpi", "group", "value", "numerator", "denominator", "unit"]
#: Optional long-format columns (``extra_columns=True``): ``n_missing_amount`` = value-bearing rows
#: whose amount is unknown (the value is then the known part of an amount sum), ``known_share`` =
#: the share of value-bearing rows whose amount is known; NaN for KPIs without that notion.
EXTRA_COLUMNS = ["n_missing_amount", "known_share"]
#: Function parameters bound to a table whose name differs from the parameter.
PARAM_TABLES = {"history": "opportunity_history", "tickets": "support_tickets"}


class SkippedKPI(str):
    """``"kpi: reason"`` (a str, for messages) with ``kpi``, ``kind``, ``reason`` and ``needs``.

    ``kind`` is ``missing_table``, ``missing_column``, ``not_groupable`` or ``error``; ``needs``
    names what is missing for the first two ("the table `opportunities`", "the column
    `subscriptions.committed_end_date`"), else ``""``.
    """

    kpi: str
    kind: str
    reason: str
    needs: str

    def __new__(cls, kpi: str, kind: str, reason: str, needs: str = ""):
        obj = super().__new__(cls, f"{kpi}: {reason}")
        obj.kpi, obj.kind, obj.reason, obj.needs = kpi, kind, reason, needs
        return obj

    def __reduce__(self):
        return (SkippedKPI, (self.kpi, self.kind, self.reason, self.needs))


def _needs(kpi: "KPI", data, policy, exc: Exception) -> str:
    """What ``exc`` (raised computing ``kpi`` on ``data``) says is missing, as a phrase."""
    if isinstance(exc, MissingColumnError) and exc.table and exc.column:
        return f"the column `{exc.table}.{exc.column}`"
    if isinstance(exc, MissingTableError):
        tables = list(kpi.tables)
        if kpi.policy_tables is not None:
            tables += list(kpi.policy_tables(get_policy(policy)))
        missing = sorted(t for t in set(tables) if getattr(data, t, None) is None)
        if missing:
            return ("the table " if len(missing) == 1 else "the tables ") + ", ".join(f"`{t}`" for t in missing)
    return ""


def _skip_kind(exc: Exception) -> str:
    if isinstance(exc, MissingColumnError):
        return "missing_column"
    if isinstance(exc, MissingTableError):
        return "missing_table"
    if isinstance(exc, NotGroupableError):
        return "not_groupable"
    return "error"


@dataclass(frozen=True)
class KPI:
    """A catalogue entry.

    Attributes
    ----------
    id : str
        Stable identifier (``nrr``), used in targets, ``kpis.csv`` and the CLI.
    label : str
        Human name ("Net revenue retention").
    unit : str
        One of :data:`UNITS`; ratios are fractions (0.87), never percentages.
    good : str
        ``"up"`` when higher is better, ``"down"`` when lower is better, ``"neutral"``.
    formula : str
        The definition in words and symbols.
    tables : tuple of str
        Tables the KPI needs.
    family : str
        Domain (revenue, retention, pipeline, marketing, success, finance, clv, quality, forecast).
    func : callable
        ``func(data, period, *, by, policy) -> DataFrame``.
    dims : tuple of str
        Extra grouping columns the KPI always returns (e.g. ``("stage",)``).
    groupable : bool
        Whether ``by=`` is supported.
    headline : bool
        Shown in the report's scorecard even without a target.
    aggregation : str
        One of :data:`AGGREGATIONS`.
    sections : dict
        Report section → position of this KPI in that section's headline table.
    columns : dict or callable
        Optional columns needed, ``{table: (column, ...)}`` (or ``policy -> dict``).
    params, bind, value
        How the catalogue calls ``func`` (see the module docstring).
    """

    id: str
    label: str
    unit: str
    good: str
    formula: str
    tables: tuple[str, ...]
    family: str
    func: Callable = field(repr=False, compare=False)
    dims: tuple[str, ...] = ()
    groupable: bool = True
    headline: bool = False
    aggregation: str = "level"
    sections: Mapping[str, int] = field(default_factory=dict, compare=False)
    columns: Mapping[str, tuple[str, ...]] | Callable | None = field(default=None, compare=False)
    params: Mapping[str, object] = field(default_factory=dict, compare=False)
    bind: Mapping[str, Callable] = field(default_factory=dict, compare=False)
    value: str | None = None
    policy_tables: Callable | None = field(default=None, compare=False)

    def needed_columns(self, policy: MetricPolicy) -> dict[str, tuple[str, ...]]:
        """Optional columns this KPI needs under ``policy``, per table."""
        cols = self.columns(policy) if callable(self.columns) else self.columns
        return {t: tuple(c) for t, c in (cols or {}).items()}

    def check(self, data, *, by: list[str] | None = None, policy: MetricPolicy | None = None) -> None:
        """Raise :class:`MissingTableError`, :class:`MissingColumnError` or
        :class:`NotGroupableError` when this KPI cannot be computed on ``data``."""
        policy = policy or DEFAULT_POLICY
        data.require(*self.tables, what=f"KPI {self.id!r}")
        if self.policy_tables is not None:
            data.require(*self.policy_tables(policy), what=f"KPI {self.id!r} under policy {policy.name!r}")
        for table, cols in self.needed_columns(policy).items():
            frame = getattr(data, table, None)
            missing = [c for c in cols if frame is None or c not in frame.columns]
            if missing:
                raise MissingColumnError(
                    f"KPI {self.id!r} needs column(s) {missing} of table {table}, which the dataset "
                    f"{getattr(data, 'source', '') or '(in memory)'} does not have",
                    table=table, column=missing[0])
        if by and not self.groupable:
            raise NotGroupableError(f"KPI {self.id!r} cannot be grouped by {by}")

    def compute(self, data, period: PeriodLike, *, by: str | list[str] | None = None,
                policy: MetricPolicy | str | None = None, extra_columns: bool = False) -> pd.DataFrame:
        """Compute this KPI and return it in long format (see :data:`LONG_COLUMNS`; with
        ``extra_columns``, also :data:`EXTRA_COLUMNS` when the KPI's frame has them)."""
        p = as_period(period)
        by_list = _as_list(by)
        pol = get_policy(policy)
        self.check(data, by=by_list, policy=pol)
        try:
            frame = self.call(data, p, by=by_list or None, policy=pol)
        except (MissingColumnError, MissingTableError, NotGroupableError):
            raise
        except (RevOpsError, KeyError) as exc:
            # input-layer shim for KPIs that do not declare columns= yet: an error naming a
            # canonical column the dataset lacks is a missing optional column
            missing = _absent_columns_named(data, self.tables, str(exc))
            if missing:
                table, column = missing[0]
                raise MissingColumnError(f"KPI {self.id!r} needs the optional column {table}.{column}, "
                                         f"which the dataset does not have ({exc})",
                                         table=table, column=column) from exc
            raise
        long = _to_long(self, p, frame, by_list, extra_columns)
        if isinstance(frame, pd.DataFrame) and "n_missing_amount" in frame.columns:
            # rows whose amount is unknown, per long row (read by the scorecard: a partly unknown
            # sum is never compared with anything)
            long.attrs["n_missing_amount"] = frame["n_missing_amount"].astype("float64").tolist()
        return long

    def call(self, data, period: Period, *, by: list[str] | None, policy: MetricPolicy) -> pd.DataFrame:
        """Call the registered function on the dataset (its own result frame, not long format)."""
        params = _signature(self.func)
        if params and params[0] == "data":
            frame = self.func(data, period, by=by, policy=policy)
        else:
            kwargs: dict = {}
            args: list = []
            for name, kind in _signature_kinds(self.func):
                if name in self.params:
                    value = self.params[name]
                elif name in self.bind:
                    value = self.bind[name](data, by, policy)
                elif name == "period":
                    value = period
                elif name == "by":
                    if not self.groupable:
                        continue
                    value = by
                elif name == "policy":
                    value = policy
                elif PARAM_TABLES.get(name, name) in _TABLES:
                    value = getattr(data, PARAM_TABLES.get(name, name))
                else:
                    continue
                if kind == "positional":
                    args.append(value)
                else:
                    kwargs[name] = value
            frame = self.func(*args, **kwargs)
        if self.value is not None:
            frame = frame.assign(value=frame[self.value].astype("float64")).drop(
                columns=[c for c in ("numerator", "denominator") if c in frame.columns])
        return frame


def _absent_columns_named(data, tables, message: str) -> list[tuple[str, str]]:
    """Canonical columns of ``tables`` that the dataset lacks and ``message`` names."""
    import re

    from .schema import TABLES

    out = []
    for name in tables:
        frame = getattr(data, name, None)
        if frame is None or name not in TABLES:
            continue
        for col in TABLES[name].column_names:
            if col not in frame.columns and re.search(rf"\b{re.escape(col)}\b", message):
                out.append((name, col))
    return out


REGISTRY: dict[str, KPI] = {}
_TABLES = frozenset(TABLE_NAMES)


def _signature(func: Callable) -> list[str]:
    return [name for name, _ in _signature_kinds(func)]


def _signature_kinds(func: Callable) -> list[tuple[str, str]]:
    out = []
    for name, prm in inspect.signature(func).parameters.items():
        if prm.kind in (prm.VAR_POSITIONAL, prm.VAR_KEYWORD):
            continue
        out.append((name, "positional" if prm.kind in (prm.POSITIONAL_ONLY, prm.POSITIONAL_OR_KEYWORD)
                    and prm.default is prm.empty else "keyword"))
    return out


def _default_aggregation(unit: str) -> str:
    return "level" if unit in ("currency", "count") else "ratio"


def register(id: str, *, label: str, unit: str, good: str, formula: str,
             tables: Iterable[str], family: str, dims: Iterable[str] = (),
             groupable: bool = True, headline: bool = False, aggregation: str | None = None,
             sections: Mapping[str, int] | Iterable[str] = (),
             columns: Mapping[str, Iterable[str]] | Callable | None = None,
             params: Mapping[str, object] | None = None, bind: Mapping[str, Callable] | None = None,
             value: str | None = None, policy_tables: Callable | None = None):
    """Decorator registering a KPI function as KPI ``id`` (see the module docstring).

    Stack it to back several KPIs with one function (each with its own ``params``). Returns the
    function unchanged.
    """
    if unit not in UNITS:
        raise ValueError(f"register({id!r}): unit must be one of {UNITS}, got {unit!r}")
    if good not in DIRECTIONS:
        raise ValueError(f"register({id!r}): good must be one of {DIRECTIONS}, got {good!r}")
    aggregation = aggregation or _default_aggregation(unit)
    if aggregation not in AGGREGATIONS:
        raise ValueError(f"register({id!r}): aggregation must be one of {AGGREGATIONS}, "
                         f"got {aggregation!r}")
    unknown = [t for t in tables if t not in _TABLES]
    if unknown:
        raise ValueError(f"register({id!r}): unknown table(s) {unknown}; expected {sorted(_TABLES)}")
    if not isinstance(sections, Mapping):
        sections = {s: 0 for s in sections}
    if columns is not None and not callable(columns):
        columns = {t: tuple(c) for t, c in columns.items()}

    def decorator(func: Callable) -> Callable:
        if id in REGISTRY and REGISTRY[id].func is not func:
            raise ValueError(f"KPI id {id!r} is registered twice ({REGISTRY[id].func.__module__})")
        entry = KPI(id, label, unit, good, formula, tuple(tables), family, func, tuple(dims),
                    groupable, headline, aggregation, dict(sections), columns, dict(params or {}),
                    dict(bind or {}), value, policy_tables)
        # stacked decorators apply bottom-up: keep the catalogue in their top-to-bottom order
        same = [k for k, v in REGISTRY.items() if v.func is func and k != id]
        if same and list(REGISTRY)[-len(same):] == same:
            for k in same:
                REGISTRY[k] = REGISTRY.pop(k)
            items = list(REGISTRY.items())
            REGISTRY.clear()
            REGISTRY.update(items[:-len(same)])
            REGISTRY[id] = entry
            REGISTRY.update(items[-len(same):])
        else:
            REGISTRY[id] = entry
        return func

    return decorator


def section_kpis(section: str) -> tuple[str, ...]:
    """The ids in ``section``'s headline table, in their declared order (derived, not written)."""
    hits = [(k.sections[section], i, k.id) for i, k in enumerate(REGISTRY.values()) if section in k.sections]
    return tuple(kid for _, _, kid in sorted(hits))


def cumulative_kpis() -> tuple[str, ...]:
    """The ids of KPIs summed over a period (``aggregation="sum"``)."""
    return tuple(k.id for k in REGISTRY.values() if k.aggregation == "sum")


def money_kpis() -> dict[str, str]:
    """``{id: aggregation}`` of the KPIs measured in money (unit ``"currency"``): what a change of
    reporting currency converts, targets included (:func:`revops_kit.fx.convert_targets`)."""
    return {k.id: k.aggregation for k in REGISTRY.values() if k.unit == "currency"}


def kpi_ids() -> tuple[str, ...]:
    """Every registered id."""
    return tuple(REGISTRY)


def get_kpi(kpi_id: str) -> KPI:
    """The catalogue entry of ``kpi_id`` (raises :class:`UnknownKPIError` naming close matches)."""
    try:
        return REGISTRY[kpi_id]
    except KeyError:
        import difflib

        close = difflib.get_close_matches(str(kpi_id), REGISTRY, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise UnknownKPIError(f"unknown KPI id {kpi_id!r}{hint} (see `revops kpis --list`)") from None


def list_kpis(family: str | None = None) -> list[KPI]:
    """Registered KPIs in catalogue order (family, then registration order)."""
    items = [k for k in REGISTRY.values() if family is None or k.family == family]
    return items


def catalog_frame() -> pd.DataFrame:
    """The catalogue as a table."""
    return pd.DataFrame(
        [{"id": k.id, "label": k.label, "family": k.family, "unit": k.unit, "good": k.good,
          "formula": k.formula, "tables": ", ".join(k.tables)} for k in list_kpis()]
    )


def _as_list(by) -> list[str]:
    if by is None:
        return []
    return [by] if isinstance(by, str) else list(by)


def _group_label(row: pd.Series, cols: list[str]) -> str:
    if not cols:
        return "all"
    return "|".join(f"{c}={'(missing)' if pd.isna(row[c]) else row[c]}" for c in cols)


def _to_long(kpi: KPI, period: Period, frame: pd.DataFrame, by: list[str],
             extra_columns: bool = False) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame) or "value" not in frame.columns:
        raise TypeError(f"KPI {kpi.id!r}: function must return a DataFrame with a 'value' column")
    cols = [c for c in list(by) + list(kpi.dims) if c in frame.columns]
    out = pd.DataFrame({
        "period": str(period),
        "kpi": kpi.id,
        "group": [_group_label(r, cols) for _, r in frame.iterrows()] if cols else "all",
        "value": frame["value"].astype("float64").to_numpy(),
        "numerator": frame["numerator"].astype("float64").to_numpy() if "numerator" in frame else np.nan,
        "denominator": frame["denominator"].astype("float64").to_numpy() if "denominator" in frame else np.nan,
        "unit": kpi.unit,
    }, index=range(len(frame)))
    cols = list(LONG_COLUMNS)
    if extra_columns:
        for extra in EXTRA_COLUMNS:
            out[extra] = frame[extra].astype("float64").to_numpy() if extra in frame.columns else np.nan
            cols.append(extra)
    return out[cols]


_SKIP_DEFAULT = (MissingTableError, MissingColumnError, NotGroupableError)


def compute_kpis(data, period: PeriodLike, kpis: Iterable[str] | None = None, *,
                 by: str | list[str] | None = None, policy: MetricPolicy | str | None = None,
                 skipped: list | None = None,
                 skip_errors: bool | tuple[type[Exception], ...] = _SKIP_DEFAULT,
                 extra_columns: bool = False) -> pd.DataFrame:
    """Compute many KPIs for one period, in long format (:data:`LONG_COLUMNS`).

    A KPI that cannot be computed on this dataset — a table it needs is absent, an optional column
    it needs is absent (e.g. ``renewal_rate`` without ``subscriptions.committed_end_date``), it
    cannot be grouped by ``by`` — is skipped: it is appended to ``skipped`` (when a list is given)
    as a :class:`SkippedKPI` (``"id: reason"`` with ``.kpi``, ``.kind``, ``.reason``), and the
    result's ``attrs["skipped"]`` holds the same tuple (``skipped_frame(result)`` as a table).
    ``skip_errors=True`` also skips KPIs that raise any other :class:`RevOpsError` (kind
    ``error``; what a report wants), ``False`` raises every error; a tuple of exception types
    skips those. Without ``skip_errors=True``, explicitly requested ``kpis`` raise instead of
    being skipped. ``extra_columns=True`` adds :data:`EXTRA_COLUMNS` (``n_missing_amount``,
    ``known_share``) after :data:`LONG_COLUMNS`.
    """
    policy = get_policy(policy) if policy is not None else DEFAULT_POLICY
    explicit = kpis is not None
    entries = [get_kpi(k) for k in kpis] if explicit else list_kpis()
    if skip_errors is True:
        catch: tuple = (RevOpsError,)
    elif skip_errors is False:
        catch = ()
    else:
        catch = tuple(skip_errors)
    frames, skips = [], []
    for kpi in entries:
        try:
            frames.append(kpi.compute(data, period, by=by, policy=policy, extra_columns=extra_columns))
        except catch as exc:
            if explicit and skip_errors is not True:
                raise
            skips.append(SkippedKPI(kpi.id, _skip_kind(exc), str(exc), _needs(kpi, data, policy, exc)))
    if skipped is not None:
        skipped.extend(skips)
    if not frames:
        out = pd.DataFrame(columns=LONG_COLUMNS)
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # concat of all-NaN columns
            out = pd.concat(frames, ignore_index=True)
    out.attrs["skipped"] = tuple(skips)
    return out


def skipped_frame(result_or_skips) -> pd.DataFrame:
    """``kpi, kind, reason`` of the KPIs a :func:`compute_kpis` call skipped."""
    skips = result_or_skips.attrs.get("skipped", ()) if isinstance(result_or_skips, pd.DataFrame) \
        else result_or_skips
    return pd.DataFrame({"kpi": [s.kpi for s in skips], "kind": [s.kind for s in skips],
                         "reason": [s.reason for s in skips]}, columns=["kpi", "kind", "reason"])


def metrics_markdown() -> str:
    """``docs/metrics.md``: every KPI with its formula, generated from the catalogue."""
    lines = [
        "# KPI catalogue",
        "",
        "Generated by `make docs` from `revops_kit/catalog.py`; do not edit by hand.",
        "Rates are fractions (0.87 = 87 %). `good` is the direction in which the KPI improves.",
        "",
    ]
    by_family: dict[str, list[KPI]] = {}
    for k in list_kpis():
        by_family.setdefault(k.family, []).append(k)
    for family in sorted(by_family):
        lines += [f"## {family}", "", "| id | label | unit | good | formula | tables |",
                  "|---|---|---|---|---|---|"]
        for k in sorted(by_family[family], key=lambda k: k.id):
            formula = k.formula.replace("|", "\\|").replace("\n", " ")
            lines.append(f"| `{k.id}` | {k.label} | {k.unit} | {k.good} | {formula} | "
                         f"{', '.join(k.tables)} |")
        lines.append("")
    return "\n".join(lines)
