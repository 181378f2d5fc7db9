"""The data-quality report's view (``notebooks/70_data_quality.ipynb``): every frame from one run of the checks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Mapping

import pandas as pd

from ..catalog import section_kpis
from ..periods import Period, PeriodLike, as_period
from ..policies import DEFAULT_POLICY, MetricPolicy
from ._base import ContextView, is_note, note_frame
from ..quality import DEFAULT_QUALITY, DQ_WEIGHTS, QualityConfig, dq_checks
from ..quality.run import QualityRun, examples_frame, run_checks
from ..quality.scoring import (
    check_weights, costs_frame, offenders_frame, score_frame, scorecard_frame, summary_frame,
    trend_rows, worst_frame,
)

__all__ = ["QualityView", "quality_view", "QualitySection", "QUALITY_HEADLINE"]


@dataclass
class QualityView:
    """Everything the data-quality report shows for one period, from one run of the checks.

    Attributes: ``period``, ``checks`` (:func:`dq_checks`), ``score``
    (:func:`crm_quality_score`), ``summary``, ``scorecard``, ``trend`` (over ``trend_periods``
    periods ending with ``period``), ``worst`` (worst checks), ``offenders`` (by owner) and
    ``costs``; :meth:`examples` gives failing rows of one check for display.
    """

    period: Period
    checks: pd.DataFrame
    score: pd.DataFrame
    summary: pd.DataFrame
    scorecard: pd.DataFrame
    trend: pd.DataFrame
    worst: pd.DataFrame
    offenders: pd.DataFrame
    costs: pd.DataFrame
    _run: QualityRun = field(repr=False)
    _data: object = field(repr=False)

    def examples(self, check: str, *, columns: Iterable[str] | None = None, n: int = 20,
                 sort_by: str | None = None, ascending: bool = False) -> pd.DataFrame:
        """Like :func:`dq_examples`, from the view's run."""
        return examples_frame(self._run, self._data, check, columns, n, sort_by, ascending)


def quality_view(data, period: PeriodLike, *, trend_periods: int = 8, n: int = 10, by: str = "owner",
                 weights: Mapping[str, float] = DQ_WEIGHTS, config: QualityConfig = DEFAULT_QUALITY,
                 policy: MetricPolicy = DEFAULT_POLICY) -> QualityView:
    """The data-quality report for ``period`` (see :class:`QualityView`): the checks run once for
    the period and once for each earlier period of the trend.

    The earlier periods of the trend that lie before the data are left out.
    """
    check_weights(weights)
    p = as_period(period)
    run = run_checks(data, p, config, policy)
    trend: list[dict] = []
    first = data.date_range()[0] if data.tables() else p.start
    for q in p.trailing(trend_periods)[:-1]:
        if q.end <= first:
            continue
        trend += trend_rows(q, dq_checks(data, q, config=config, policy=policy), weights)
    trend += trend_rows(p, run.checks, weights)
    return QualityView(period=p, checks=run.checks, score=score_frame(run.checks, weights),
                       summary=summary_frame(run.checks, weights), scorecard=scorecard_frame(run.checks),
                       trend=pd.DataFrame(trend), worst=worst_frame(run.checks, n),
                       offenders=offenders_frame(run, by, n), costs=costs_frame(run), _run=run, _data=data)


QUALITY_HEADLINE = section_kpis("quality")  # crm_quality_score, then dq_<dimension> (quality/kpis.py)


class QualitySection(ContextView):
    """The data-quality page from a report context: the :class:`QualityView` frames (one run of
    the checks), failing rows of a check or a note when the check does not apply, and the headline."""

    trend_periods = 8
    sql_what = "the data-quality checks"  # engine="sql": they read every subscription row

    @property
    def _view(self):
        return self._get("view", (), lambda: quality_view(self.data, self.period, trend_periods=self.trend_periods,
                                                          policy=self.policy))

    def _part(self, name: str) -> pd.DataFrame:
        v = self._view
        return v if is_note(v) else getattr(v, name)

    score = property(lambda self: self._part("score"))
    summary = property(lambda self: self._part("summary"))
    scorecard = property(lambda self: self._part("scorecard"))
    trend = property(lambda self: self._part("trend"))
    worst = property(lambda self: self._part("worst"))
    offenders = property(lambda self: self._part("offenders"))
    costs = property(lambda self: self._part("costs"))

    def examples(self, check: str, **kwargs) -> pd.DataFrame:
        """Failing rows of ``check`` (see :meth:`QualityView.examples`), or a note when the check
        does not apply to this dataset."""
        from ..quality import UnknownCheckError

        v = self._view
        if is_note(v):
            return v
        try:
            out = v.examples(check, **kwargs)
        except UnknownCheckError:
            return note_frame(f"The check {check} does not apply to this dataset (its tables are missing).")
        return out

    def headline(self, kpis=QUALITY_HEADLINE) -> pd.DataFrame:
        out = self.ctx.headline(kpis)
        if is_note(out) or "group" not in out.columns:
            return out
        return out[out["group"].isin(["all", "table=all"])].reset_index(drop=True)
