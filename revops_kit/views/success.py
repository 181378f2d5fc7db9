"""The frames behind the customer-success report (``notebooks/40_customer_success.ipynb``)."""

from __future__ import annotations

import pandas as pd

from ._base import ContextView, note_frame

__all__ = ["SuccessView", "SUCCESS_KPIS", "SUCCESS_TREND_KPIS", "SUCCESS_HEADLINE"]

SUCCESS_KPIS = ("nps", "csat", "support_tickets", "tickets_per_customer", "ticket_time_to_close_days",
                "product_adoption_rate", "feature_adoption", "retention_cost", "accounts_at_risk")
SUCCESS_TREND_KPIS = ("tickets_per_customer", "ticket_time_to_close_days", "csat", "product_adoption_rate",
                      "feature_adoption", "retention_cost")
SUCCESS_HEADLINE = ("support_tickets", "csat", "product_adoption_rate", "retention_cost", "accounts_at_risk")


class SuccessView(ContextView):
    """Customer-success KPIs and their trends, the NPS mix, portfolio growth by owner and accounts at risk."""

    @property
    def kpis(self) -> pd.DataFrame:
        return self.ctx.headline(SUCCESS_KPIS)

    @property
    def history(self) -> pd.DataFrame:
        """Trend KPIs over the trailing eight periods (only KPIs the data can give; from the first
        period the data covers)."""
        from ..catalog import get_kpi
        from ..targets import kpi_history

        def build():
            ids = [k for k in SUCCESS_TREND_KPIS if self.data.has(*get_kpi(k).tables)]
            if not ids:
                return note_frame("This section needs the table `support_tickets`, `product_usage` or `costs`.")
            periods = self.ctx.trailing(8, tables=("support_tickets", "product_usage", "subscriptions"),
                                        what="Customer-success trends")
            out = kpi_history(self.data, periods, ids, policy=self.policy)
            known = out.groupby("kpi")["value"].transform(lambda v: v.notna().any())
            out = out[known]
            return out if len(out) else note_frame("None of the customer-success KPIs has a value in these periods.")
        return self._get("history", (), build)

    @property
    def nps(self) -> pd.DataFrame:
        from ..success import nps_trend

        return self._get("nps", ("nps_responses",), lambda: nps_trend(self.data.nps_responses, self.period, n=8))

    @property
    def portfolio(self) -> pd.DataFrame:
        from ..success import portfolio_growth

        d = self.data
        return self._get("portfolio", ("subscriptions", "customers"), lambda: portfolio_growth(
            d.subscriptions, d.customers, self.period, fx_rates=d.fx_rates, policy=self.policy),
            columns={"customers": ["owner"]})

    @property
    def health(self) -> pd.DataFrame:
        from ..targets import account_risk

        return self._get("health", ("subscriptions",), lambda: account_risk(
            self.data, self.period, as_of=self.ctx.as_of, policy=self.policy))

    @property
    def health_source(self) -> str:
        h = self.health
        return str(h.attrs.get("source", "")) if "note" not in h.columns else ""

    @property
    def top_at_risk(self) -> pd.DataFrame:
        from ..success import top_at_risk

        h = self.health
        return h if "note" in h.columns else top_at_risk(h, n=15)

    def headline(self, kpis=SUCCESS_HEADLINE) -> pd.DataFrame:
        return self.ctx.headline(kpis)
