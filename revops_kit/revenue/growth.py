"""Recurring-revenue growth rate (MoM / QoQ / YoY, or against the same period a year earlier)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._common import as_list, ratio_frame
from ..catalog import register
from ..grid import MRRInputError
from ..periods import PeriodLike, as_period
from ..policies import DEFAULT_POLICY, MetricPolicy, get_policy
from .mrr_arr import mrr

__all__ = ["revenue_growth_rate"]


@register("revenue_growth_rate", label="Recurring revenue growth", unit="ratio", good="up",
          family="revenue",
          formula="(MRR_end − MRR_end of previous period) ÷ MRR_end of previous period",
          tables=("subscriptions",))
def revenue_growth_rate(subscriptions: pd.DataFrame, period: PeriodLike, *,
                        by: str | list[str] | None = None, customers: pd.DataFrame | None = None,
                        fx_rates: pd.DataFrame | None = None, compare: str = "previous",
                        policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """Recurring-revenue growth rate: (MRR_end − MRR_ref) ÷ MRR_ref.

    ``compare="previous"`` (default): MRR_ref is the MRR at the end of the previous period (the
    month before this one starts), i.e. MoM for a month, QoQ for a quarter, YoY for a year.
    ``compare="year_ago"``: MRR_ref is the MRR at the end of the same period a year earlier.
    Returns ``value, numerator (MRR_end − MRR_ref), denominator (MRR_ref), mrr_end``.
    """
    policy = get_policy(policy)
    p = as_period(period)
    if compare not in ("previous", "year_ago"):
        raise MRRInputError(f"revenue_growth_rate: compare must be 'previous' or 'year_ago', "
                            f"got {compare!r}")
    ref = p.previous() if compare == "previous" else p.year_ago()
    kw = dict(by=by, customers=customers, fx_rates=fx_rates, policy=policy)
    end = mrr(subscriptions, p, **kw)
    before = mrr(subscriptions, ref, **kw)
    by = as_list(by)
    if by:
        frame = end[by + ["value"]].merge(before[by + ["value"]], on=by, how="outer",
                                          suffixes=("_end", "_ref")).fillna(
            {"value_end": 0.0, "value_ref": 0.0})
    else:
        frame = pd.DataFrame({"value_end": end["value"], "value_ref": before["value"]})
    frame["mrr_end"] = frame["value_end"]
    frame["growth"] = (np.rint(frame["value_end"] * 100) - np.rint(frame["value_ref"] * 100)) / 100
    out = ratio_frame(frame, "growth", "value_ref", what="revenue growth rate (no MRR before)",
                      by=by)
    return out[by + ["value", "numerator", "denominator", "mrr_end"]]
