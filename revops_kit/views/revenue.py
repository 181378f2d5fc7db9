"""The frames behind the revenue report (``notebooks/10_revenue.ipynb``)."""

from __future__ import annotations

import pandas as pd

from ..cohorts import cohort_matrix, cohort_retention, survival_curves, survival_summary
from ..retention import contract_kpis, retention_trend
from ..revenue import bridge_table, mrr_bridge, mrr_series, top_movements, trailing_mrr_bridge
from ._base import ContextView, is_note

__all__ = ["RevenueView", "REVENUE_HEADLINE"]

REVENUE_HEADLINE = ("mrr", "arr", "mrr_net_change", "customers_active", "nrr", "grr", "logo_churn_rate",
                    "quick_ratio", "arpa")
_SUBS = ("subscriptions",)
_SEGMENT = {"customers": ["segment"]}


class RevenueView(ContextView):
    """MRR bridge (period and trailing twelve months), MRR by segment and currency, retention
    trends, cohorts, survival, largest movements and contract KPIs, each computed once or a note."""

    def _subs(self):
        return self.data.subscriptions

    @property
    def bridge(self) -> pd.DataFrame:
        return self._get("bridge", _SUBS, lambda: mrr_bridge(self._subs(), self.period, **self.kw))

    @property
    def bridge_table(self) -> pd.DataFrame:
        b = self.bridge
        return b if is_note(b) else bridge_table(b)

    @property
    def ttm_bridge(self) -> pd.DataFrame:
        return self._get("ttm", _SUBS, lambda: trailing_mrr_bridge(self._subs(), self.period, months=12, **self.kw))

    @property
    def months(self):
        return self.ctx.trailing_months(24, tables=_SUBS, what="MRR trends")

    @property
    def total_trend(self) -> pd.DataFrame:
        """MRR and active customers by month, trailing 24 months (from the first month of data)."""
        return self._get("total_trend", _SUBS, lambda: mrr_series(self._subs(), self.months, **self.kw))

    @property
    def segment_trend(self) -> pd.DataFrame:
        return self._get("segment_trend", _SUBS, lambda: mrr_series(self._subs(), self.months, by="segment",
                                                                     **self.kw), columns=_SEGMENT)

    @property
    def segment_bridge(self) -> pd.DataFrame:
        return self._get("segment_bridge", _SUBS, lambda: bridge_table(
            mrr_bridge(self._subs(), self.period, by="segment", **self.kw), by="segment"), columns=_SEGMENT)

    @property
    def currency_bridge(self) -> pd.DataFrame:
        return self._get("currency_bridge", _SUBS, lambda: bridge_table(
            mrr_bridge(self._subs(), self.period, by="currency", **self.kw), by="currency"),
            columns={"subscriptions": ["currency"]})

    @property
    def periods(self):
        return self.ctx.trailing(8, tables=_SUBS, what="Retention trends")

    @property
    def retention(self) -> pd.DataFrame:
        return self._get("retention", _SUBS, lambda: retention_trend(self._subs(), self.periods, **self.kw))

    @property
    def retention_wide(self) -> pd.DataFrame:
        return self._get("retention_wide", _SUBS, lambda: retention_trend(self._subs(), self.periods, wide=True,
                                                                           **self.kw))

    @property
    def cohorts(self) -> pd.DataFrame:
        return self._get("cohorts", _SUBS, lambda: cohort_retention(
            self._subs(), freq="Q", end=self.period, max_age=8, last_cohorts=12, **self.kw))

    def cohort_matrix(self, value: str) -> pd.DataFrame:
        c = self.cohorts
        return c if is_note(c) else self._get(f"matrix_{value}", _SUBS, lambda: cohort_matrix(c, value, freq="Q"))

    @property
    def survival(self) -> pd.DataFrame:
        return self._get("survival", _SUBS, lambda: survival_curves(
            self._subs(), by="segment", customers=self.data.customers, end=self.period, policy=self.policy),
            columns=_SEGMENT)

    @property
    def survival_summary(self) -> pd.DataFrame:
        s = self.survival
        return s if is_note(s) else survival_summary(s, by="segment")

    @property
    def movements(self) -> pd.DataFrame:
        return self._get("movements", _SUBS, lambda: top_movements(self._subs(), self.period, n=8, **self.kw))

    @property
    def contracts(self) -> pd.DataFrame:
        c = self._get("contracts", _SUBS, lambda: contract_kpis(self.data, self.period, policy=self.policy))
        if not is_note(c) and c["note"].str.contains("engine=sql", regex=False).any():
            rows = c.loc[c["note"].str.contains("engine=sql", regex=False)]
            names = ", ".join(dict.fromkeys(f"{k} ({b})" for k, b in zip(rows["kpi"], rows["basis"])))
            self.ctx.notes.add(f"Renewals, contract value and backlog: {names} not computed, they need "
                               "the subscription rows in memory (engine=sql).",
                               key=("sql_unsupported", "contracts"), once=True)
        return c

    def headline(self, kpis=REVENUE_HEADLINE) -> pd.DataFrame:
        return self.ctx.headline(kpis)
