"""Frame helpers shared by the pipeline modules: grouping, sums per group, the flags of closed
deals, and the catalogue's ``by`` checks (private to :mod:`revops_kit.pipeline`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._common import as_list, attach_columns, isin
from ..catalog import NotGroupableError
from ..periods import Period
from ..stages import LOST, OPEN, WON


def _static(opportunities: pd.DataFrame) -> pd.DataFrame:
    keep = [c for c in opportunities.columns
            if c not in ("stage", "amount", "close_date", "is_closed", "is_won", "probability",
                         "forecast_category")]
    return opportunities[keep].drop_duplicates("opportunity_id")


def _groups(frame: pd.DataFrame, by: list[str], customers: pd.DataFrame | None) -> pd.DataFrame:
    if not by:
        return frame
    if "customer_id" not in frame.columns:
        frame = frame.assign(customer_id=np.nan)
    return attach_columns(frame, customers, by, table="opportunities")


def _by_ok(data, by, dims: tuple[str, ...] = ()) -> list[str]:
    """Check ``by`` columns exist in opportunities or customers (NotGroupableError otherwise)."""
    by = as_list(by)
    clash = [c for c in by if c in dims]
    if clash:
        raise NotGroupableError(f"this KPI is already split by {clash}")
    cust = set(data.customers.columns) if data.customers is not None else set()
    bad = [c for c in by if c not in data.opportunities.columns and c not in cust]
    if bad:
        raise NotGroupableError(f"opportunities cannot be grouped by {bad}: not a column of "
                                "opportunities or customers")
    return by


def _kw(data, by, policy, types: str | None = None, dims: tuple[str, ...] = ()):
    """Keyword arguments of the two catalogue adapters; grouping by type uses every type."""
    by = _by_ok(data, by, dims)
    kw = {"history": data.opportunity_history, "by": by, "customers": data.customers,
          "fx_rates": data.fx_rates, "policy": policy}
    if types is not None:
        kw["types"] = None if "type" in by else types
    return kw


def _bind_by(dims: tuple[str, ...] = ()):
    return lambda data, by, policy: _by_ok(data, by, dims)


def _bind_types(types):
    return lambda data, by, policy: None if "type" in as_list(by) else types


def _sum_by(frame: pd.DataFrame, by: list[str], cols: dict) -> pd.DataFrame:
    tmp = pd.DataFrame({k: np.asarray(v) for k, v in cols.items()}, index=frame.index)
    if by:
        tmp = pd.concat([frame[by], tmp], axis=1)
        return tmp.groupby(by, sort=True, observed=True, dropna=False)[list(cols)].sum().reset_index()
    return pd.DataFrame({k: [tmp[k].sum()] for k in cols})


def _of_types(frame: pd.DataFrame, types) -> pd.DataFrame:
    """Rows of the given opportunity types (all when ``types`` is None or there is no ``type``
    column: a CRM export without types is taken to be all one motion)."""
    if types is None or "type" not in frame.columns:
        return frame
    return frame[isin(frame["type"], list(types))]


def _closed_in(out: pd.DataFrame, p: Period, outcomes=(WON, LOST)) -> pd.Series:
    return out["outcome"].isin(outcomes) & p.mask(out["closed_on"]).fillna(False)


def _flags(out: pd.DataFrame, mask: pd.Series) -> dict:
    """Flag columns for a set of closed deals: missing amounts, close dates from history, unplaced."""
    closed = out["outcome"] != OPEN
    return {
        "n_missing_amount": (mask & out["value"].isna()).astype("int64"),
        "n_close_date_from_history": (mask & (out["closed_on_source"] == "history")).astype("int64"),
        "n_unplaced": (closed & (out["closed_on_source"] == "missing")).astype("int64"),
    }


def _known_amounts(res: pd.DataFrame, rows: str, value: str = "value",
                   missing: str = "n_missing_amount") -> pd.DataFrame:
    """Unknown is not zero: ``value`` is the sum of the known amounts, ``known_share`` the share of
    the ``rows`` deals whose amount is known, and ``value`` is NaN when none is known."""
    n = res[rows].astype("float64")
    m = res[missing].astype("float64")
    res["known_share"] = np.where(n > 0, (n - m) / n.where(n > 0, 1.0), np.nan)
    res[value] = res[value].astype("float64").where(~((n > 0) & (m >= n)), np.nan)
    return res


def _check_quota_by(by: list[str]) -> None:
    bad = [c for c in by if c not in ("owner", "team")]
    if bad:
        raise NotGroupableError(f"quota-based KPIs can be grouped by owner or team only, not {bad}")
