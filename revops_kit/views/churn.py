"""The frames behind the churn-prediction report (``notebooks/45_churn.ipynb``).

scikit-learn is imported only when a frame is first asked for (``revops_kit.churn`` is lazy).
A model that cannot be trained (too few customers, a single class, no snapshot history) gives a
note saying so and why, instead of failing the page.
"""

from __future__ import annotations

import pandas as pd

from ._base import ContextView, is_note, note_frame, sql_unsupported_note

__all__ = ["ChurnView"]

_SUBS = ("subscriptions",)


class ChurnView(ContextView):
    """Time-based backtest (model card, metrics, calibration, lift), the refitted model's risk
    table and summary, and the global churn drivers."""

    horizon_months = 3

    @property
    def when(self) -> pd.Timestamp:
        from ..churn import score_date

        return score_date(self.period, as_of=self.ctx.as_of)

    def _untrainable(self, exc: Exception) -> pd.DataFrame:
        from ..engines import SQLEngineUnsupported

        if isinstance(exc, SQLEngineUnsupported):  # its features read the subscription history
            return sql_unsupported_note(exc, self.ctx.notes, what="the churn model")
        msg = str(exc).strip().rstrip(".")
        return note_frame(f"The churn model cannot be trained on this dataset: {msg}.")

    @property
    def backtest(self):
        from ..churn import backtest
        from ..errors import RevOpsError

        def build():
            try:
                return backtest(self.data, until=self.when, horizon_months=self.horizon_months, policy=self.policy)
            except RevOpsError as exc:
                return self._untrainable(exc)
        return self._get("backtest", _SUBS, build)

    def _from_bt(self, name, build):
        bt = self.backtest
        return bt if is_note(bt) else self._get(name, _SUBS, lambda: build(bt))

    @property
    def model_card(self) -> pd.DataFrame:
        return self._from_bt("model_card", lambda bt: bt.model_card())

    @property
    def metrics(self) -> pd.DataFrame:
        return self._from_bt("metrics", lambda bt: bt.metrics)

    @property
    def test_caption(self) -> str:
        bt = self.backtest
        if is_note(bt):
            return "Test metrics"
        return (f"Test metrics on the cut-off {bt.test_as_of.date()} ({bt.test_rows:,} customers, "
                f"{bt.test_churners:,} churned)")

    @property
    def test_date(self) -> str:
        bt = self.backtest
        return "" if is_note(bt) else str(bt.test_as_of.date())

    @property
    def best(self) -> str:
        bt = self.backtest
        return "" if is_note(bt) else str(bt.best)

    @property
    def calibration(self) -> pd.DataFrame:
        return self._from_bt("calibration", lambda bt: bt.calibration())

    @property
    def lifts(self) -> pd.DataFrame:
        return self._from_bt("lifts", lambda bt: bt.lifts())

    def _scored(self):
        from ..churn import build_features
        from ..errors import RevOpsError

        def build(bt):
            try:
                model = bt.refit(self.data, self.when, policy=self.policy)
                features = build_features(self.data, self.when, policy=self.policy)
                return {"model": model, "features": features, "contributions": model.contributions(features)}
            except RevOpsError as exc:
                return self._untrainable(exc)
        return self._from_bt("scored", build)

    @property
    def risk(self) -> pd.DataFrame:
        from ..churn import risk_table

        s = self._scored()
        if is_note(s):
            return s
        return self._get("risk", _SUBS, lambda: risk_table(self.data, self.when, model=s["model"],
                                                           features=s["features"], contributions=s["contributions"],
                                                           policy=self.policy))

    @property
    def risk_summary(self) -> pd.DataFrame:
        from ..churn import risk_summary

        r = self.risk
        return r if is_note(r) else risk_summary(r, by="segment" if "segment" in r.columns else None)

    @property
    def drivers(self) -> pd.DataFrame:
        from ..churn import global_drivers

        s = self._scored()
        if is_note(s):
            return s
        return self._get("drivers", _SUBS, lambda: global_drivers(s["model"], s["features"],
                                                                  contributions=s["contributions"]))

    @property
    def driver_method(self) -> str:
        s = self._scored()
        return "" if is_note(s) else str(s["model"].driver_method)
