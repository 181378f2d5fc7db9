"""The lead funnel (lead → MQL → SQL → opportunity → won): each lead's step dates, counts,
conversion rates and days between steps, and the step conversions as KPIs."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._common import frame_cache, as_list, ratio_frame
from ..catalog import register
from ..periods import Period, PeriodLike, as_period
from ._shared import _lead_by, _lead_groups

__all__ = ["FUNNEL_STEPS", "funnel_dates", "lead_funnel", "funnel_conversion"]


#: Lead funnel steps, in order.
FUNNEL_STEPS = ("lead", "mql", "sql", "opportunity", "won")


def funnel_dates(leads: pd.DataFrame, opportunities: pd.DataFrame | None = None, *,
                 history: pd.DataFrame | None = None, by: str | list[str] | None = None) -> pd.DataFrame:
    """Each lead's date at every funnel step, and whether it reached it.

    Adds ``lead_at``, ``mql_at``, ``sql_at``, ``opportunity_at``, ``won_at`` (the step's own date,
    NaT when unknown) and ``reached_<step>`` (True when the lead has that step's date or a later
    step's), and ``<step>_on`` (the date used to place the step in a period: its own date, or the
    next known later step's when missing). Blank ``by`` columns (channel, campaign) become
    ``"(missing)"``.
    """
    out = _lead_groups(leads, as_list(by))
    out["lead_at"] = out["created_at"]
    for step in ("mql_at", "sql_at"):
        if step not in out.columns:
            out[step] = pd.Series(pd.NaT, index=out.index, dtype="datetime64[ns]")
    opp_id = out["opportunity_id"] if "opportunity_id" in out.columns else pd.Series(np.nan, index=out.index)
    if opportunities is not None:
        from ..pipeline import WON, opportunity_outcomes

        # dates only: amounts (and their currency) play no part
        plain = opportunities.drop(columns=["currency"], errors="ignore")
        oc = opportunity_outcomes(plain, history=history).drop_duplicates("opportunity_id") \
            .set_index("opportunity_id")
        out["opportunity_at"] = opp_id.map(oc["created_at"]).astype("datetime64[ns]")
        won = oc["closed_on"].where(oc["outcome"] == WON)
        out["won_at"] = opp_id.map(won).astype("datetime64[ns]")
        has_opp = opp_id.notna() & (pd.Index(oc.index).get_indexer(opp_id) >= 0)
        has_won = opp_id.map(oc["outcome"] == WON).astype("boolean").fillna(False).astype(bool)
    else:
        out["opportunity_at"] = pd.Series(pd.NaT, index=out.index, dtype="datetime64[ns]")
        conv = out["converted_at"] if "converted_at" in out.columns else pd.Series(pd.NaT, index=out.index)
        out["won_at"] = conv.astype("datetime64[ns]")
        has_opp = opp_id.notna()
        has_won = out["won_at"].notna()
    own = {"lead": out["lead_at"].notna(), "mql": out["mql_at"].notna(), "sql": out["sql_at"].notna(),
           "opportunity": has_opp | out["opportunity_at"].notna(), "won": has_won | out["won_at"].notna()}
    later = pd.Series(False, index=out.index)
    on_next = pd.Series(pd.NaT, index=out.index, dtype="datetime64[ns]")
    for step in reversed(FUNNEL_STEPS):
        reached = own[step] | later
        out[f"reached_{step}"] = reached.to_numpy(dtype=bool)
        date = out[f"{step}_at"]
        out[f"{step}_on"] = date.where(date.notna(), on_next.where(reached))
        on_next = out[f"{step}_on"]
        later = reached
    return out


def lead_funnel(leads: pd.DataFrame, period: PeriodLike, *, opportunities: pd.DataFrame | None = None,
                history: pd.DataFrame | None = None, basis: str = "period",
                by: str | list[str] | None = None, as_of=None) -> pd.DataFrame:
    """Lead → MQL → SQL → opportunity → won: counts, conversion rates and days between steps.

    ``basis="period"``: each step counts the leads whose step date (see :func:`funnel_dates`)
    falls in ``period`` (flows of the period; a rate can exceed 1). ``basis="cohort"``: the leads
    created in ``period``, and how many of them reached each step (by ``as_of`` when given:
    steps dated before it; otherwise everything the data holds — recent cohorts are still
    maturing).

    One row per (group and) step: ``count``, ``conversion_rate`` (÷ previous step's count),
    ``rate_from_lead`` (÷ leads), ``median_days`` and ``mean_days`` from the previous step (leads
    with both dates known, counted at the step: in the period, or in the cohort),
    ``n_days``. The :func:`funnel_dates` behind it are built once per (leads, opportunities,
    history) frames and ``by``.
    """
    if basis not in ("period", "cohort"):
        raise ValueError(f"lead_funnel: basis must be 'period' or 'cohort', got {basis!r}")
    p = as_period(period)
    by = as_list(by)
    f = frame_cache("funnel_dates", (leads, opportunities, history), (tuple(by),),
                    lambda: funnel_dates(leads, opportunities, history=history, by=by))
    f = _lead_groups(f, by)
    if basis == "cohort":
        f = f[p.mask(f["lead_at"]).fillna(False)]
        cut = pd.Timestamp(as_of) if as_of is not None else None
    rows = []
    groups = f.groupby(by, sort=True) if by else [((), f)]
    for key, g in groups:
        key = key if isinstance(key, tuple) else (key,)
        prev = None
        for i, step in enumerate(FUNNEL_STEPS):
            if basis == "period":
                at = p.mask(g[f"{step}_on"]).fillna(False)
            else:
                at = g[f"reached_{step}"]
                if cut is not None:
                    at = at & (g[f"{step}_on"] < cut).fillna(False)
            count = int(at.sum())
            row = dict(zip(by, key))
            row.update({"step": step, "count": count})
            if i:
                prev_step = FUNNEL_STEPS[i - 1]
                d = (g.loc[at, f"{step}_at"] - g.loc[at, f"{prev_step}_at"]).dt.days.dropna()
                row.update({"median_days": d.median() if len(d) else np.nan,
                            "mean_days": d.mean() if len(d) else np.nan, "n_days": len(d)})
                row["conversion_rate"] = count / prev if prev else np.nan
            rows.append(row)
            prev = count
    out = pd.DataFrame(rows)
    leads_n = out[out["step"] == "lead"].set_index(by)["count"] if by else out.loc[0, "count"]
    if by:
        out["rate_from_lead"] = out["count"] / out.set_index(by).index.map(leads_n).to_numpy(dtype=float)
    else:
        out["rate_from_lead"] = out["count"] / leads_n if leads_n else np.nan
    out["n_days"] = out["n_days"].fillna(0).astype("int64")
    return out[by + ["step", "count", "conversion_rate", "rate_from_lead", "median_days", "mean_days", "n_days"]]


def funnel_conversion(leads: pd.DataFrame, period: PeriodLike, step: str, *,
                      opportunities: pd.DataFrame | None = None, history: pd.DataFrame | None = None,
                      by: str | list[str] | None = None, basis: str = "period",
                      from_step: str | None = None) -> pd.DataFrame:
    """Conversion into funnel ``step`` from the previous step (or ``from_step``), per period.

    value = leads reaching ``step`` ÷ leads reaching the step before, counted as in
    :func:`lead_funnel` (``basis="period"`` default: both flows dated in the period).
    Returns ``value``, ``numerator``, ``denominator``, ``median_days``.
    """
    if step not in FUNNEL_STEPS[1:]:
        raise ValueError(f"funnel_conversion: step must be one of {FUNNEL_STEPS[1:]}, got {step!r}")
    from_step = from_step or FUNNEL_STEPS[FUNNEL_STEPS.index(step) - 1]
    by = as_list(by)
    fun = lead_funnel(leads, period, opportunities=opportunities, history=history, basis=basis, by=by)
    num = fun[fun["step"] == step].set_index(by) if by else fun[fun["step"] == step].reset_index(drop=True)
    den = fun[fun["step"] == from_step].set_index(by) if by else fun[fun["step"] == from_step].reset_index(drop=True)
    out = pd.DataFrame({"numerator": num["count"], "denominator": den["count"].reindex(num.index) if by else den["count"],
                        "median_days": num["median_days"]})
    out = out.reset_index() if by else out
    return ratio_frame(out, "numerator", "denominator",
                       what=f"{from_step}→{step} conversion {as_period(period)}", by=by or None)


def _register_funnel(kpi_id: str, step: str, label: str, from_step: str | None = None,
                     sections: dict | None = None) -> None:
    prev = from_step or FUNNEL_STEPS[FUNNEL_STEPS.index(step) - 1]

    words = {"lead": "leads created", "mql": "leads becoming MQL", "sql": "leads becoming SQL",
             "opportunity": "leads becoming opportunities", "won": "leads won"}

    @register(kpi_id, label=label, unit="ratio", good="up", family="marketing", sections=sections or {},
              formula=f"{words[step]} in the period ÷ {words[prev]} in the period "
                      "(flows dated in the period; a later step implies the earlier ones)",
              tables=("leads",))
    def _kpi(data, period: Period, *, by, policy):
        return funnel_conversion(data.leads, period, step, by=_lead_by(data, by), from_step=from_step,
                                 opportunities=data.opportunities, history=data.opportunity_history)

    _kpi.__name__ = f"_kpi_{kpi_id}"


_register_funnel("lead_to_mql_rate", "mql", "Lead → MQL rate")
_register_funnel("mql_to_sql_rate", "sql", "MQL → SQL rate")
_register_funnel("sql_to_opportunity_rate", "opportunity", "SQL → opportunity rate")
_register_funnel("opportunity_to_won_rate", "won", "Opportunity → won rate (lead-sourced)")
_register_funnel("lead_to_won_rate", "won", "Lead → won rate", from_step="lead", sections={"marketing": 8})
