"""The frames behind the sales report (``notebooks/20_sales.ipynb``)."""

from __future__ import annotations

from typing import Iterable

import numpy as np
import pandas as pd

from ..periods import PeriodLike
from ..catalog import section_kpis
from ..pipeline import (opportunities_by_stage, pipeline_coverage, pipeline_evolution,
                        quota_attainment, sales_trend, stage_conversion_rate, stage_order, time_in_stage)
from ..policies import MetricPolicy
from ._base import PeriodView, is_note

__all__ = ["SALES_HEADLINE", "SalesView", "sales_view"]

#: Derived from the catalogue (``sections={"sales": n}`` on each KPI's registration).
SALES_HEADLINE = section_kpis("sales")


class SalesView(PeriodView):
    """The frames behind the sales report (``notebooks/20_sales.ipynb``), each computed once.

    Every attribute is a DataFrame; when the dataset lacks a table the section needs, it is a
    one-row frame with a ``note`` saying which (the plotting functions draw the note).
    """

    def __init__(self, data, period: PeriodLike, *, policy: MetricPolicy | str | None = None,
                 trailing: int = 8, ctx=None):
        super().__init__(data, period, policy=policy, ctx=ctx)
        self.trailing = trailing

    def _periods(self):
        if self.ctx is None:
            return self.period.trailing(self.trailing)
        return self.ctx.trailing(self.trailing, tables=("opportunities",), what="Sales trends")

    def _kw(self):
        d = self.data
        return dict(history=d.opportunity_history, fx_rates=d.fx_rates, policy=self.policy)

    @property
    def by_stage(self) -> pd.DataFrame:
        """Open deals at the period end per stage: count (``value``), ``amount``, share."""
        out = self._get("by_stage", ("opportunities",), lambda: opportunities_by_stage(
            self.data.opportunities, self.period, customers=self.data.customers, **self._kw()))
        if self.ctx is not None and "n_missing_amount" in out.columns:
            n = int(out["n_missing_amount"].fillna(0).sum())
            if n:
                known = float(out["amount"].sum())
                from ..formatting import format_money

                self.ctx.notes.add(f"Open pipeline at the end of {self.period}: {format_money(known, self.ctx.currency)} "
                                   f"known; {n:,} open deal(s) have no amount (counted, not valued at 0).",
                                   key=("missing_amount", str(self.period)), once=True)
        return out

    @property
    def by_stage_table(self) -> pd.DataFrame:
        """:attr:`by_stage` for the page: the count headed ``open_deals`` (in the KPI frame it is
        the ``value``), deals without an amount as ``without_amount``."""
        out = self.by_stage
        if is_note(out):
            return out
        return out.rename(columns={"value": "open_deals", "n_missing_amount": "without_amount"})

    @property
    def coverage(self) -> pd.DataFrame:
        """Coverage of the next period's quota at the period end, per team and in total."""
        def build():
            p, d = self.period, self.data
            kw = dict(as_of=p.end, **self._kw())
            teams = pipeline_coverage(d.opportunities, d.quotas, p.next(), by="team", **kw)
            with_total = pd.concat([teams, pipeline_coverage(d.opportunities, d.quotas, p.next(), **kw)
                                    .assign(team="total")], ignore_index=True)
            out = with_total.rename(columns={"numerator": "pipeline", "value": "coverage"})
            out.insert(0, "period", str(p.next()))
            return out[["period", "team", "pipeline", "open_opportunities", "quota", "booked", "remaining_quota",
                        "coverage", "n_missing_amount"]]
        return self._get("coverage", ("opportunities", "quotas"), build)

    @property
    def evolution(self) -> pd.DataFrame:
        """Evolution of the pipeline closing in the period, from its start to its end."""
        p = self.period
        out = self._get("evolution", ("opportunities",), lambda: pipeline_evolution(
            self.data.opportunities, p.start, p.end, window=p, **self._kw()))
        if self.ctx is not None and out.attrs.get("unobserved_steps"):
            self.ctx.notes.add("Pipeline evolution without an `opportunity_history` table: each deal is taken "
                               "with its current amount and close date, so re-opens, amount changes and "
                               "close-date moves (pulled in, slipped out) cannot be seen and are shown as "
                               "unknown, not 0.", key=("evolution_without_history",), once=True)
        return out

    @property
    def evolution_table(self) -> pd.DataFrame:
        """:attr:`evolution` for the page: without the integer ``cents`` (the exact sums the
        identity start + movements = end is checked on), and a step that cannot be seen without
        the history (``attrs["unobserved_steps"]``) unknown in every column, not 0 deals."""
        out = self.evolution
        if is_note(out):
            return out
        out = out.drop(columns=["cents"], errors="ignore")
        unseen = out["step"].isin(out.attrs.get("unobserved_steps") or [])
        if unseen.any():
            cols = [c for c in ("opportunities", "n_missing_amount", "known_share", "n_missing_close_date")
                    if c in out.columns]
            out[cols] = out[cols].astype("float64")
            out.loc[unseen, cols] = np.nan
        return out

    @property
    def trend(self) -> pd.DataFrame:
        """Win rate, deal size, cycle, bookings, velocity for the trailing periods."""
        d = self.data
        return self._get("trend", ("opportunities",), lambda: sales_trend(
            d.opportunities, self._periods(), history=d.opportunity_history,
            customers=d.customers, fx_rates=d.fx_rates, policy=self.policy))

    @property
    def quota(self) -> pd.DataFrame:
        """Quota attainment per owner (with team)."""
        def build():
            d = self.data
            out = quota_attainment(d.opportunities, d.quotas, self.period, by="owner", **self._kw())
            if "team" in d.quotas.columns:
                teams = d.quotas.drop_duplicates("owner", keep="last").set_index("owner")["team"]
                out.insert(1, "team", out["owner"].map(teams))
            return out.rename(columns={"value": "attainment"})[
                [c for c in ("owner", "team", "quota", "booked", "won", "attainment") if c in out.columns
                 or c == "attainment"]]
        return self._get("quota", ("opportunities", "quotas"), build)

    @property
    def stages(self) -> pd.DataFrame:
        """Per open stage: exits in the period, share moving forward, median/mean days, deals in it."""
        def build():
            d, p = self.data, self.period
            h = d.opportunity_history
            order = stage_order(d.opportunities, h)
            conv = stage_conversion_rate(d.opportunities, p, order=order, history=h)
            tis = time_in_stage(d.opportunities, p, order=order, history=h)
            out = pd.DataFrame({"stage": order})
            out = out.merge(conv[["stage", "denominator", "value", "to_won", "to_lost", "moved_back"]]
                            .rename(columns={"denominator": "exits", "value": "conversion_rate"}), on="stage", how="left")
            out = out.merge(tis[["stage", "value", "mean", "in_stage"]]
                            .rename(columns={"value": "median_days", "mean": "mean_days"}), on="stage", how="left")
            counts = ["exits", "to_won", "to_lost", "moved_back", "in_stage"]
            out[counts] = out[counts].fillna(0).astype("int64")
            return out
        return self._get("stages", ("opportunities", "opportunity_history"), build)

    def headline(self, kpis: Iterable[str] = SALES_HEADLINE) -> pd.DataFrame:
        """The period's headline KPIs (those whose tables the dataset has), long format."""
        from ..catalog import compute_kpis, get_kpi

        if self.ctx is not None:
            return self.ctx.headline(kpis)

        ids = [k for k in kpis if self.data.has(*get_kpi(k).tables)]
        return compute_kpis(self.data, self.period, ids, policy=self.policy)


def sales_view(data, period: PeriodLike, *, policy: MetricPolicy | str | None = None, trailing: int = 8) -> SalesView:
    """The sales report's frames for ``period`` (see :class:`SalesView`)."""
    return SalesView(data, period, policy=policy, trailing=trailing)
