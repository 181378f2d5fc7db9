"""The frames behind the finance report (``notebooks/60_finance.ipynb``)."""

from __future__ import annotations

import pandas as pd

from ..clv import clv_simple, clv_survival
from ..cohorts import survival_curves
from ..finance import FINANCE_COLUMNS, finance_series
from ._base import ContextView

__all__ = ["FinanceView", "FINANCE_KPIS", "FINANCE_HEADLINE"]

FINANCE_KPIS = ("revenue_recognised", "billings", "cash_collected", "dso", "gross_margin", "operating_cash_flow",
                "profit_margin")
FINANCE_HEADLINE = ("revenue_recognised", "billings", "cash_collected", "dso", "gross_margin", "profit_margin",
                    "clv_simple")
_INV = ("invoices",)
_SEGMENT = {"customers": ["segment"]}


class FinanceView(ContextView):
    """Finance KPIs, billings/revenue/cash by month, quarter and year, and customer lifetime value."""

    @property
    def kpis(self) -> pd.DataFrame:
        return self.ctx.headline(FINANCE_KPIS)

    def _series(self, freq: str, n: int) -> pd.DataFrame:
        if freq == "month":
            n = len(self.ctx.trailing_months(n, tables=_INV, what="Monthly finance series"))
        elif freq == "quarter":
            n = len(self.ctx.trailing(n, tables=_INV, what="Quarterly finance series"))
        d = self.data
        return self._get(f"series_{freq}", _INV, lambda: finance_series(
            d.invoices, self.period, costs=d.costs, freq=freq, n=n, fx_rates=d.fx_rates, policy=self.policy))

    @property
    def monthly(self) -> pd.DataFrame:
        return self._series("month", 12)

    @property
    def quarterly(self) -> pd.DataFrame:
        s = self._series("quarter", 8)
        return s[[c for c in FINANCE_COLUMNS if c in s.columns]] if "note" not in s.columns else s

    @property
    def yearly(self) -> pd.DataFrame:
        s = self._series("year", 4)
        return s[[c for c in FINANCE_COLUMNS if c in s.columns]] if "note" not in s.columns else s

    @property
    def clv_simple(self) -> pd.DataFrame:
        d = self.data
        return self._get("clv_simple", ("subscriptions",), lambda: clv_simple(
            d.subscriptions, self.period, invoices=d.invoices, customers=d.customers, fx_rates=d.fx_rates,
            by="segment", policy=self.policy), columns=_SEGMENT)

    @property
    def clv_survival(self) -> pd.DataFrame:
        d = self.data
        return self._get("clv_survival", ("subscriptions",), lambda: clv_survival(
            d.subscriptions, self.period, invoices=d.invoices, customers=d.customers, fx_rates=d.fx_rates,
            by="segment", policy=self.policy), columns=_SEGMENT)

    @property
    def survival(self) -> pd.DataFrame:
        d = self.data
        return self._get("survival", ("subscriptions",), lambda: survival_curves(
            d.subscriptions, by="segment", customers=d.customers, end=self.period, policy=self.policy),
            columns=_SEGMENT)

    def headline(self, kpis=FINANCE_HEADLINE) -> pd.DataFrame:
        return self.ctx.headline(kpis)
