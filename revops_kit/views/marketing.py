"""The frames behind the marketing report (``notebooks/30_marketing.ipynb``)."""

from __future__ import annotations

from typing import Iterable

import pandas as pd

from ..marketing import acquisition_by_channel, lead_funnel, spend_by_month, trial_to_paid
from ..catalog import section_kpis
from ..periods import PeriodLike
from ..policies import MetricPolicy
from ._base import PeriodView

__all__ = ["MARKETING_HEADLINE", "MarketingView", "marketing_view"]

#: Derived from the catalogue (``sections={"marketing": n}`` on each KPI's registration).
MARKETING_HEADLINE = section_kpis("marketing")


class MarketingView(PeriodView):
    """The frames behind the marketing report (``notebooks/30_marketing.ipynb``), each computed once.

    Every attribute is a DataFrame; when the dataset lacks a table the section needs, it is a
    one-row frame with a ``note`` saying which (the plotting functions draw the note).
    """

    def __init__(self, data, period: PeriodLike, *, policy: MetricPolicy | str | None = None,
                 spend_months: int = 12, ctx=None):
        super().__init__(data, period, policy=policy, ctx=ctx)
        self.spend_months = spend_months

    def _crm(self):
        d = self.data
        return dict(opportunities=d.opportunities, history=d.opportunity_history)

    @property
    def funnel(self) -> pd.DataFrame:
        """Period-based funnel per channel: counts, conversion from the previous step, median days."""
        return self._get("funnel", ("leads",), lambda: lead_funnel(
            self.data.leads, self.period, by="channel", **self._crm()))

    @property
    def funnel_cohort(self) -> pd.DataFrame:
        """Leads created in the period and how far they got so far (all channels)."""
        return self._get("funnel_cohort", ("leads",), lambda: lead_funnel(
            self.data.leads, self.period, basis="cohort", **self._crm()))

    @property
    def trials(self) -> pd.DataFrame:
        """Trial → paid of the trials started in the period, per channel."""
        def build():
            out = trial_to_paid(self.data.leads, self.period, by="channel")
            return out.rename(columns={"value": "trial_to_paid"})[
                ["channel", "trials", "paid", "trial_to_paid", "median_days_to_paid", "n_converted_before_trial"]]
        return self._get("trials", ("leads",), build)

    @property
    def acquisition(self) -> pd.DataFrame:
        """Acquisition economics per channel and in total (:func:`acquisition_by_channel`)."""
        d = self.data
        return self._get("acquisition", ("costs", "subscriptions", "customers", "invoices"),
                         lambda: acquisition_by_channel(d.costs, d.subscriptions, self.period, leads=d.leads,
                                                        invoices=d.invoices, customers=d.customers,
                                                        fx_rates=d.fx_rates, policy=self.policy))

    @property
    def spend(self) -> pd.DataFrame:
        """Acquisition spend per month and category, trailing months up to the period end."""
        return self._get("spend", ("costs",), lambda: spend_by_month(
            self.data.costs, (self.ctx.trailing_months(self.spend_months, tables=("costs",), what="Spend trends") if self.ctx
                               else self.period.trailing_months(self.spend_months)), fx_rates=self.data.fx_rates,
            policy=self.policy))

    def headline(self, kpis: Iterable[str] = MARKETING_HEADLINE) -> pd.DataFrame:
        """The period's headline KPIs (those whose tables the dataset has), long format."""
        from ..catalog import compute_kpis, get_kpi

        if self.ctx is not None:
            return self.ctx.headline(kpis)

        ids = [k for k in kpis if self.data.has(*get_kpi(k).tables)]
        return compute_kpis(self.data, self.period, ids, policy=self.policy)


def marketing_view(data, period: PeriodLike, *, policy: MetricPolicy | str | None = None,
                   spend_months: int = 12) -> MarketingView:
    """The marketing report's frames for ``period`` (see :class:`MarketingView`)."""
    return MarketingView(data, period, policy=policy, spend_months=spend_months)
