"""Helpers shared by the marketing modules: the costs of a period, the gross margin used by
payback and ROI, lead grouping and the catalogue's channel checks (private to
:mod:`revops_kit.marketing`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._common import as_list, to_reporting_currency
from ..catalog import NotGroupableError
from ..errors import RevOpsError
from ..periods import Period


MISSING = "(missing)"


def _costs_frame(costs: pd.DataFrame, period: Period, fx_rates, policy, categories) -> pd.DataFrame:
    """Costs rows of ``categories`` in ``period`` with ``amount_rep`` and ``channel`` (None = shared)."""
    c = costs[period.mask(costs["month"]).fillna(False) & costs["category"].isin(list(categories))].copy()
    c["amount_rep"] = to_reporting_currency(c, "amount", "month", fx_rates, policy, table="costs")
    if "channel" not in c.columns:
        c["channel"] = np.nan
    return c


def _gross_margin_value(gross_margin, invoices, costs, period, fx_rates, policy) -> float:
    if gross_margin is not None:
        if isinstance(gross_margin, pd.DataFrame):
            return float(gross_margin["value"].iloc[0])
        return float(gross_margin)
    if invoices is None:
        raise RevOpsError("gross margin needed: pass gross_margin= (a fraction) or invoices= "
                          "(and costs= for the cost_of_revenue ledger)")
    from ..finance import gross_margin as _gm

    use_ledger = costs is not None and (costs["category"] == "cost_of_revenue").any()
    gm = _gm(invoices, period, costs=costs if use_ledger else None, fx_rates=fx_rates, policy=policy)
    return float(gm["value"].iloc[0])


def _lead_groups(leads: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    bad = [c for c in by if c not in leads.columns]
    if bad:
        raise NotGroupableError(f"leads cannot be grouped by {bad}: leads has columns {list(leads.columns)}")
    out = leads.copy()
    for c in by:
        out[c] = out[c].astype(object).where(out[c].notna(), MISSING)
    return out


def _channel_only(by, what: str) -> bool:
    by = as_list(by)
    if not by:
        return False
    if by in (["channel"], ["acquisition_channel"]):
        return True
    raise NotGroupableError(f"{what} can be grouped by channel only, not {by}")


def _rename_channel(frame: pd.DataFrame, by) -> pd.DataFrame:
    by = as_list(by)
    if by == ["acquisition_channel"] and "channel" in frame.columns:
        return frame.rename(columns={"channel": "acquisition_channel"})
    return frame


def _mkw(data, policy):
    return {"customers": data.customers, "fx_rates": data.fx_rates, "policy": policy}


def _lead_by(data, by) -> list[str]:
    by = as_list(by)
    bad = [c for c in by if c not in data.leads.columns]
    if bad:
        raise NotGroupableError(f"leads cannot be grouped by {bad}")
    return by
