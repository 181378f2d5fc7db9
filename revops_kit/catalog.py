"""The KPI catalogue: every KPI defined once, with its formula, unit, good direction and tables.

Domain modules register their KPIs with :func:`register`. The catalogue drives ``revops kpis``,
the report's ``kpis.csv``/``kpis.json`` and scorecard, targets, and ``docs/metrics.md``.

A registered function has the signature ``func(data, period, *, by, policy)`` where ``data`` is a
:class:`~revops_kit.io.RevOpsData`, ``period`` a :class:`~revops_kit.periods.Period`, ``by`` a
list of column names or ``None``; it returns a DataFrame with the ``by`` columns (and the KPI's
own ``dims``, e.g. ``stage``), ``value`` and, for ratios, ``numerator`` and ``denominator``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Callable, Iterable

import numpy as np
import pandas as pd

from .errors import MissingColumnError, MissingTableError, NotGroupableError, RevOpsError, UnknownKPIError
from .periods import Period, PeriodLike, as_period
from .policies import DEFAULT_POLICY, MetricPolicy, get_policy

__all__ = [
    "KPI",
    "register",
    "get_kpi",
    "list_kpis",
    "catalog_frame",
    "compute_kpis",
    "metrics_markdown",
    "LONG_COLUMNS",
    "UNITS",
    "DIRECTIONS",
    "NotGroupableError",
]

UNITS = ("currency", "ratio", "count", "days", "months", "multiple", "score")
DIRECTIONS = ("up", "down", "neutral")
LONG_COLUMNS = ["period", "kpi", "group", "value", "numerator", "denominator", "unit"]


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

    def compute(self, data, period: PeriodLike, *, by: str | list[str] | None = None,
                policy: MetricPolicy | str | None = None) -> pd.DataFrame:
        """Compute this KPI and return it in long format (see :data:`LONG_COLUMNS`)."""
        data.require(*self.tables, what=f"KPI {self.id!r}")
        p = as_period(period)
        by_list = _as_list(by)
        if by_list and not self.groupable:
            raise NotGroupableError(f"KPI {self.id!r} cannot be grouped by {by_list}")
        try:
            frame = self.func(data, p, by=by_list or None, policy=get_policy(policy))
        except (MissingColumnError, MissingTableError, NotGroupableError):
            raise
        except (RevOpsError, KeyError) as exc:
            # input-layer shim until the KPI functions raise MissingColumnError themselves
            missing = _absent_columns_named(data, self.tables, str(exc))
            if missing:
                table, column = missing[0]
                raise MissingColumnError(f"KPI {self.id!r} needs the optional column {table}.{column}, "
                                         f"which the dataset does not have ({exc})",
                                         table=table, column=column) from exc
            raise
        long = _to_long(self, p, frame, by_list)
        if isinstance(frame, pd.DataFrame) and "n_missing_amount" in frame.columns:
            # rows whose amount is unknown, per long row (read by the scorecard: a partly unknown
            # sum is never compared with anything)
            long.attrs["n_missing_amount"] = frame["n_missing_amount"].astype("float64").tolist()
        return long


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


def register(id: str, *, label: str, unit: str, good: str, formula: str,
             tables: Iterable[str], family: str, dims: Iterable[str] = (),
             groupable: bool = True, headline: bool = False):
    """Decorator registering ``func(data, period, *, by, policy)`` as KPI ``id``."""
    if unit not in UNITS:
        raise ValueError(f"register({id!r}): unit must be one of {UNITS}, got {unit!r}")
    if good not in DIRECTIONS:
        raise ValueError(f"register({id!r}): good must be one of {DIRECTIONS}, got {good!r}")

    def decorator(func: Callable) -> Callable:
        if id in REGISTRY and REGISTRY[id].func is not func:
            raise ValueError(f"KPI id {id!r} is registered twice ({REGISTRY[id].func.__module__})")
        REGISTRY[id] = KPI(id, label, unit, good, formula, tuple(tables), family, func,
                           tuple(dims), groupable, headline)
        return func

    return decorator


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


def _to_long(kpi: KPI, period: Period, frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
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
    return out[LONG_COLUMNS]


def compute_kpis(data, period: PeriodLike, kpis: Iterable[str] | None = None, *,
                 by: str | list[str] | None = None, policy: MetricPolicy | str | None = None,
                 skipped: list[str] | None = None,
                 skip_errors: tuple[type[Exception], ...] = (MissingTableError, MissingColumnError,
                                                             NotGroupableError),
                 ) -> pd.DataFrame:
    """Compute many KPIs for one period, in long format.

    KPIs that raise one of ``skip_errors`` (by default: their tables or optional columns are
    absent, or they cannot be grouped by ``by``) are skipped; their ids and the reason are appended to ``skipped`` when a
    list is given. An explicitly requested KPI that cannot be computed raises instead.
    """
    policy = get_policy(policy) if policy is not None else DEFAULT_POLICY
    explicit = kpis is not None
    entries = [get_kpi(k) for k in kpis] if explicit else list_kpis()
    frames = []
    for kpi in entries:
        try:
            frames.append(kpi.compute(data, period, by=by, policy=policy))
        except skip_errors as exc:
            if explicit:
                raise
            if skipped is not None:
                skipped.append(f"{kpi.id}: {exc}")
    if not frames:
        return pd.DataFrame(columns=LONG_COLUMNS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # concat of all-NaN columns
        return pd.concat(frames, ignore_index=True)


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
