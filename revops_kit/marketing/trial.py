"""Trial → paid conversion of the trials started in a period."""

from __future__ import annotations

import pandas as pd

from .._common import as_list, ratio_frame
from ..catalog import register
from ..errors import RevOpsError
from ..periods import Period, PeriodLike, as_period
from ._shared import _lead_by, _lead_groups

__all__ = ["trial_to_paid"]


def trial_to_paid(leads: pd.DataFrame, period: PeriodLike, *, by: str | list[str] | None = None,
                  as_of=None) -> pd.DataFrame:
    """Trial → paid conversion of the trials started in ``period`` (a cohort rate).

    trial_to_paid = trials started in the period that converted to paid (``converted_at`` on or
    after ``trial_started_at``, and before ``as_of`` when given) ÷ trials started in the period.
    Conversions dated before the trial started are not counted as trial conversions and are
    flagged in ``n_converted_before_trial``. Recent cohorts are still maturing. Returns
    ``value``, ``numerator``, ``denominator``, ``median_days_to_paid``.
    """
    p = as_period(period)
    by = as_list(by)
    if "trial_started_at" not in leads.columns:
        raise RevOpsError("trial_to_paid needs leads.trial_started_at (and converted_at)")
    lf = _lead_groups(leads, by)
    lf = lf[p.mask(lf["trial_started_at"]).fillna(False)]
    conv = lf["converted_at"] if "converted_at" in lf.columns else pd.Series(pd.NaT, index=lf.index)
    ok = (conv >= lf["trial_started_at"]).fillna(False)
    if as_of is not None:
        ok = ok & (conv < pd.Timestamp(as_of)).fillna(False)
    before = (conv < lf["trial_started_at"]).fillna(False)
    days = (conv - lf["trial_started_at"]).dt.days.where(ok)
    tmp = lf[by].copy() if by else pd.DataFrame(index=lf.index)
    tmp["paid"], tmp["trials"], tmp["before"], tmp["days"] = ok.astype("int64"), 1, before.astype("int64"), days
    if by:
        out = tmp.groupby(by, sort=True).agg(paid=("paid", "sum"), trials=("trials", "sum"),
                                             n_converted_before_trial=("before", "sum"),
                                             median_days_to_paid=("days", "median")).reset_index()
    else:
        out = pd.DataFrame({"paid": [int(tmp["paid"].sum())], "trials": [len(tmp)],
                            "n_converted_before_trial": [int(tmp["before"].sum())],
                            "median_days_to_paid": [tmp["days"].median()]})
    return ratio_frame(out, "paid", "trials", what=f"trial_to_paid {p} (no trials started)", by=by or None)


@register("trial_to_paid", sections={"marketing": 9}, label="Trial → paid conversion", unit="ratio", good="up", family="marketing",
          formula="trials started in the period that converted to paid ÷ trials started in the period "
                  "(cohort; recent cohorts still maturing)",
          tables=("leads",))
def _kpi_trial_to_paid(data, period: Period, *, by, policy):
    return trial_to_paid(data.leads, period, by=_lead_by(data, by))
