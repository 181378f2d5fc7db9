"""The frames behind the forecast report (``notebooks/50_forecast.ipynb``), each computed once.

The forecasting code (statsmodels) is imported when a frame is first asked for, not with the view.
"""

from __future__ import annotations

import warnings
from typing import Iterable

import numpy as np
import pandas as pd

from ..catalog import section_kpis
from ..errors import ModelFallbackWarning
from ..periods import PeriodLike, as_period
from ..policies import MetricPolicy
from ._base import missing_note

__all__ = ["ForecastView", "forecast_view", "FORECAST_HEADLINE"]

#: Derived from the catalogue (``sections={"forecast": n}`` on each KPI's registration).
FORECAST_HEADLINE = section_kpis("forecast")
_SERIES_LABEL = {"mrr": "MRR", "arr": "ARR", "bookings": "Bookings"}


class ForecastView:
    """Forecast report frames for ``period``: revenue forecasts (next ``h`` months), the forecast
    made a year earlier against what happened, backtest error by horizon, the pipeline forecast
    next to submitted forecasts and actual bookings, its calibration, and the accuracy of the
    submitted forecasts.

    Every attribute is computed on first use. When the dataset lacks a table a section needs, the
    attribute is a one-row frame with a ``note`` (the plotting functions draw it).
    """

    def __init__(self, data, period: PeriodLike, *, policy: MetricPolicy | str | None = None,
                 h: int = 12, method: str = "auto", history_months: int = 36,
                 trailing: int = 4, backtest_windows: int = 6, backtest_h: int = 6, ctx=None):
        from ..policies import get_policy

        self.data = data
        self.period = as_period(period)
        self.policy = get_policy(policy)
        self.h = int(h)
        self.method = method
        self.history_months = int(history_months)
        self.trailing = int(trailing)
        self.backtest_windows = int(backtest_windows)
        self.backtest_h = int(backtest_h)
        self._memo: dict = {}
        self._notes: list[tuple[str, str]] = []
        self.ctx = ctx

    def _get(self, name, tables, build, any_of=False):
        if name not in self._memo:
            note = missing_note(self.data, *tables, any_of=any_of)
            if note is not None:
                self._memo[name] = note
            else:
                from ..errors import RevOpsError

                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always", ModelFallbackWarning)
                    try:
                        self._memo[name] = build()
                    except RevOpsError as exc:
                        self._memo[name] = pd.DataFrame({"note": [f"Not computed on this dataset: "
                                                                  f"{str(exc).strip().rstrip('.')}."]})
                for w in caught:
                    if issubclass(w.category, ModelFallbackWarning):
                        self._notes.append((name, str(w.message)))
                    if self.ctx is not None:
                        self.ctx.notes.record_warning(w.message, w.category, w.filename, w.lineno)
                    elif not issubclass(w.category, ModelFallbackWarning):  # not ours to swallow
                        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        return self._memo[name]

    @property
    def notes(self) -> pd.DataFrame:
        """Model fallbacks met so far (section, note): what the models had to simplify and why.
        Sections record them instead of warning, so the report lists them in one place."""
        rows = list(dict.fromkeys(self._notes))
        return pd.DataFrame(rows or [("all", "no model had to fall back to a simpler one")],
                            columns=["section", "note"])

    # ------------------------------------------------------------------ revenue
    @property
    def series(self) -> pd.DataFrame:
        """Monthly ``mrr``, ``arr``, ``bookings`` up to the period end (all months available)."""
        from ..forecast.revenue_forecast import revenue_series

        return self._get("series", ("subscriptions", "opportunities"), lambda: revenue_series(
            self.data, self.period, months=self.history_months + 24, policy=self.policy), any_of=True)

    @property
    def revenue(self):
        """``{"mrr", "arr", "bookings"}`` → ForecastResult for the ``h`` months after the period."""
        from ..forecast.revenue_forecast import revenue_forecasts

        return self._get("revenue", ("subscriptions", "opportunities"), lambda: revenue_forecasts(
            self.data, self.period, h=self.h, method=self.method, months=self.history_months,
            policy=self.policy), any_of=True)

    @property
    def revenue_table(self) -> pd.DataFrame:
        """Last actual month and forecast at 3, 6 and 12 months (80 % interval) per series."""
        from ..forecast.revenue_forecast import forecast_table

        rev = self.revenue
        if isinstance(rev, pd.DataFrame):
            return rev
        out = forecast_table(rev)
        out["series"] = out["series"].map(lambda s: _SERIES_LABEL.get(s, s))
        return out

    @property
    def year_ago(self):
        """``{"mrr", "bookings"}`` → the forecast made 12 months before the period end, with the
        ``actual`` of each month since (see :func:`~revops_kit.forecast.forecast_from`)."""
        from ..forecast.revenue_forecast import _trim, forecast_from

        def build():
            s = self.series
            origin = self.period.last_month - pd.DateOffset(months=12)
            out = {}
            for name in ("mrr", "bookings"):
                if name in s.columns and (_trim(s[name]).index <= origin).sum() >= 4:
                    out[name] = forecast_from(s[name], origin, 12, method=self.method,
                                              months=self.history_months)
            return out
        return self._get("year_ago", ("subscriptions", "opportunities"), build, any_of=True)

    @property
    def year_ago_table(self) -> pd.DataFrame:
        """Per series: forecast and actual at the end and summed over the 12 months, WAPE over
        the months and the share of months inside the 80 % interval."""
        ya = self.year_ago
        if isinstance(ya, pd.DataFrame):
            return ya
        rows = []
        for name, f in ya.items():
            done = f.dropna(subset=["actual"])
            if done.empty:
                continue
            rows.append({
                "series": _SERIES_LABEL.get(name, name),
                "forecast_made": (done.index[0] - pd.DateOffset(months=1)).strftime("%Y-%m"),
                "months": len(done),
                "forecast_last_month": float(done["mean"].iloc[-1]),
                "actual_last_month": float(done["actual"].iloc[-1]),
                "forecast_total": float(done["mean"].sum()),
                "actual_total": float(done["actual"].sum()),
                "wape": float(np.abs(done["error"]).sum() / np.abs(done["actual"]).sum()),
                "bias": float(done["error"].sum() / done["actual"].sum()),
                "inside_80": float(((done["actual"] >= done["lower_80"]) & (done["actual"] <= done["upper_80"])).mean()),
            })
        return pd.DataFrame(rows)

    @property
    def backtest(self) -> pd.DataFrame:
        """Error by months ahead of ``snaive`` and the report's method on MRR and bookings:
        ``backtest_windows`` monthly origins, horizon ``backtest_h``."""
        from ..forecast.backtest import backtest, error_by_horizon
        from ..forecast.models import ForecastInputError
        from ..forecast.revenue_forecast import _trim

        def build():
            s = self.series
            frames = []
            for name in ("mrr", "bookings"):
                if name not in s.columns:
                    continue
                y = _trim(s[name]).iloc[-(self.history_months + self.backtest_h + self.backtest_windows):]
                try:
                    bt = backtest(y, self.backtest_h, method=["snaive", self.method],
                                  windows=self.backtest_windows, season_length=12)
                except ForecastInputError:
                    continue
                eh = error_by_horizon(bt)
                eh.insert(0, "series", _SERIES_LABEL.get(name, name))
                frames.append(eh)
            out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
                {"note": ["too little history to backtest"]})
            if "method" in out.columns:
                out.insert(2, "line", out["series"] + " · " + out["method"])
            return out
        return self._get("backtest", ("subscriptions", "opportunities"), build, any_of=True)

    # ------------------------------------------------------------------ pipeline
    def _pcache(self):
        from ..forecast.pipeline_forecast import _cache_for

        if "_pcache" not in self._memo:
            self._memo["_pcache"] = _cache_for(self.data, self.policy, None)
        return self._memo["_pcache"]

    @property
    def pipeline_next(self) -> pd.DataFrame:
        """Expected bookings of the next period from the pipeline open at this period's end, per
        team and in total."""
        from ..forecast.pipeline_forecast import pipeline_forecast

        def build():
            p = self.period
            kw = dict(as_of=p.end, policy=self.policy, _cache=self._pcache())
            teams = pipeline_forecast(self.data, p.next(), by="team", **kw) \
                if "team" in self.data.opportunities.columns else None
            total = pipeline_forecast(self.data, p.next(), **kw).assign(team="total")
            out = pd.concat([f for f in (teams, total) if f is not None], ignore_index=True)
            return out[["period", "as_of", "team", "open_opportunities", "open_pipeline",
                        "expected_bookings"]]
        return self._get("pipeline_next", ("opportunities",), build)

    @property
    def comparison(self) -> pd.DataFrame:
        """Pipeline forecast, submitted commit and best case on each submission date of the last
        ``trailing`` periods, against actual bookings."""
        from ..forecast.pipeline_forecast import forecast_comparison

        return self._get("comparison", ("opportunities",), lambda: forecast_comparison(
            self.data, self.period.trailing(self.trailing), policy=self.policy, _cache=self._pcache()))

    @property
    def calibration(self) -> pd.DataFrame:
        """Out-of-time calibration of the win probabilities over the last ``trailing`` periods."""
        from ..forecast.pipeline_forecast import pipeline_calibration

        return self._get("calibration", ("opportunities",), lambda: pipeline_calibration(
            self.data, self.period.trailing(self.trailing), policy=self.policy, _cache=self._pcache()))

    # ------------------------------------------------------------------ submissions
    def _accuracy(self, by):
        from ..forecast.submitted import forecast_accuracy

        d = self.data
        return forecast_accuracy(d.forecast_submissions, d.opportunities, self.period,
                                 history=d.opportunity_history, by=by, fx_rates=d.fx_rates,
                                 policy=self.policy)

    @property
    def submissions_by_owner(self) -> pd.DataFrame:
        """Accuracy, bias and hit rate (±10 %) of commit submissions per owner, with team."""
        def build():
            out = self._accuracy(["owner"])
            subs = self.data.forecast_submissions
            if "team" in subs.columns:
                teams = subs.drop_duplicates("owner", keep="last").set_index("owner")["team"]
                out.insert(1, "team", out["owner"].map(teams))
            cols = ["owner", "team", "forecasts", "forecast", "actual", "value", "bias", "hit_rate"]
            return out.rename(columns={})[[c for c in cols if c in out.columns]] \
                .rename(columns={"value": "accuracy"})
        return self._get("submissions_by_owner", ("forecast_submissions", "opportunities"), build)

    @property
    def submissions_by_lead(self) -> pd.DataFrame:
        """Accuracy, bias and hit rate by category and months ahead of the period end."""
        def build():
            out = self._accuracy(["category", "months_ahead"])
            cols = ["category", "months_ahead", "forecasts", "forecast", "actual", "value", "bias", "hit_rate"]
            return out[cols].rename(columns={"value": "accuracy"})
        return self._get("submissions_by_lead", ("forecast_submissions", "opportunities"), build)

    def headline(self, kpis: Iterable[str] = FORECAST_HEADLINE) -> pd.DataFrame:
        """The period's headline KPIs (those whose tables the dataset has), long format."""
        from ..catalog import compute_kpis, get_kpi

        if self.ctx is not None:
            return self.ctx.headline(kpis)

        ids = [k for k in kpis if self.data.has(*get_kpi(k).tables)]
        return compute_kpis(self.data, self.period, ids, policy=self.policy)


def forecast_view(data, period: PeriodLike, *, policy: MetricPolicy | str | None = None,
                  **kwargs) -> ForecastView:
    """The forecast report's frames for ``period`` (see :class:`ForecastView`)."""
    return ForecastView(data, period, policy=policy, **kwargs)
