"""The frames behind the executive summary (``notebooks/00_executive_summary.ipynb``) and the
report index: the scorecard is computed once per report and shared by both."""

from __future__ import annotations

import pandas as pd

from ._base import ContextView, is_note

__all__ = ["ExecutiveView", "EXECUTIVE_HEADLINE"]

EXECUTIVE_HEADLINE = ("mrr", "arr", "customers_active", "revenue_recognised", "gross_margin", "dso")


class ExecutiveView(ContextView):
    """Scorecard against targets, the largest movements and risks, and the weakest areas."""

    @property
    def scorecard(self) -> pd.DataFrame:
        from ..targets import scorecard

        def build():
            return self.ctx.shared("scorecard", lambda: scorecard(self.data, self.period, as_of=self.ctx.as_of,
                                                                 policy=self.policy))
        return self._get("scorecard", (), build)

    @property
    def trend_span(self) -> str:
        sc = self.scorecard
        trend = [] if is_note(sc) else (sc.attrs.get("trend_periods") or [])
        return f"trend: {trend[0]} to {trend[-1]}" if trend else "no trend"

    @property
    def messages(self) -> pd.DataFrame:
        from ..targets import key_messages

        sc = self.scorecard
        return sc if is_note(sc) else self._get("messages", (), lambda: key_messages(sc, n=5, currency=self.ctx.currency))

    @property
    def weakest(self) -> pd.DataFrame:
        from ..targets import weakest_areas

        sc = self.scorecard
        if is_note(sc):
            return sc
        return self._get("weakest", (), lambda: weakest_areas(sc, n=3)[["label", "family", "status", "reason"]])

    def show_scorecard(self):
        from ..targets import show_scorecard

        sc = self.scorecard
        if is_note(sc) or sc.empty:
            return self.ctx.show(sc, caption=f"Scorecard {self.period}")
        return show_scorecard(sc, caption=f"Scorecard {self.period} ({self.trend_span})", currency=self.ctx.currency)

    def show_messages(self):
        from ..targets import show_messages

        m = self.messages
        if is_note(m) or m.empty:
            return self.ctx.show(m, caption="Five things to know")
        return show_messages(m, caption="Five things to know")

    def headline(self, kpis=EXECUTIVE_HEADLINE) -> pd.DataFrame:
        return self.ctx.headline(kpis)
