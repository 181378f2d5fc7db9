"""Leads: lead volume and cost per lead."""

from __future__ import annotations

import pandas as pd

from .._common import as_list, ratio_frame
from ..catalog import register
from ..periods import Period, PeriodLike, as_period
from ..policies import DEFAULT_POLICY, MetricPolicy
from ._shared import MISSING, _channel_only, _costs_frame, _lead_by, _lead_groups, _rename_channel

__all__ = ["lead_volume", "cost_per_lead"]


def lead_volume(leads: pd.DataFrame, period: PeriodLike, *, by: str | list[str] | None = None) -> pd.DataFrame:
    """Leads created in ``period`` (``value``), per ``by`` (channel, campaign)."""
    p = as_period(period)
    by = as_list(by)
    lf = _lead_groups(leads, by)
    lf = lf[p.mask(lf["created_at"]).fillna(False)]
    if by:
        return lf.groupby(by, sort=True).size().rename("value").reset_index()
    return pd.DataFrame({"value": [len(lf)]})


def cost_per_lead(leads: pd.DataFrame, costs: pd.DataFrame, period: PeriodLike, *, by_channel: bool = False,
                  fx_rates: pd.DataFrame | None = None, policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """Cost per lead: marketing_programs spend ÷ leads created in the period (per channel with
    ``by_channel``: the channel's program spend ÷ its leads; leads without channel form
    ``"(missing)"``, with no spend). Returns ``value``, ``numerator`` (spend), ``denominator`` (leads)."""
    p = as_period(period)
    c = _costs_frame(costs, p, fx_rates, policy, ("marketing_programs",))
    if not by_channel:
        out = pd.DataFrame({"program_spend": [float(c["amount_rep"].sum())],
                            "leads": [int(lead_volume(leads, p)["value"].iloc[0])]})
        return ratio_frame(out, "program_spend", "leads", what=f"cost_per_lead {p}")
    vol = lead_volume(leads, p, by="channel").set_index("channel")["value"]
    spend = c.assign(channel=c["channel"].astype(object).where(c["channel"].notna(), MISSING)) \
        .groupby("channel")["amount_rep"].sum()
    channels = sorted(set(vol.index) | set(spend.index), key=str)
    out = pd.DataFrame({"channel": channels})
    out["program_spend"] = out["channel"].map(spend).fillna(0.0)
    out["leads"] = out["channel"].map(vol).fillna(0).astype("int64")
    return ratio_frame(out, "program_spend", "leads", what=f"cost_per_lead {p}", by=["channel"])


@register("lead_volume", sections={"marketing": 6}, aggregation="sum", label="Leads created", unit="count", good="up", family="marketing",
          formula="leads created in the period (by channel, campaign)", tables=("leads",))
def _kpi_lead_volume(data, period: Period, *, by, policy):
    return lead_volume(data.leads, period, by=_lead_by(data, by))


@register("cost_per_lead", sections={"marketing": 7}, label="Cost per lead", unit="currency", good="down", family="marketing",
          formula="marketing programs spend ÷ leads created in the period (by channel: the channel's)",
          tables=("leads", "costs"))
def _kpi_cost_per_lead(data, period: Period, *, by, policy):
    ch = _channel_only(by, "cost_per_lead")
    return _rename_channel(cost_per_lead(data.leads, data.costs, period, by_channel=ch,
                                         fx_rates=data.fx_rates, policy=policy), by)
