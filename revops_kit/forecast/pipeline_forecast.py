"""Pipeline-based bookings forecast: open opportunities × the probability of winning them in time.

Expected bookings of a period, seen from a date ``as_of`` inside or before it::

    expected_bookings = booked_to_date + Σ_open amount_i × P(won by period end | features_i at as_of)

where ``booked_to_date`` is what was already won in ``[period.start, as_of)`` and the sum runs over
the new-business and expansion opportunities open at ``as_of`` (the types bookings are made of;
see :data:`revops_kit.pipeline.BOOKING_TYPES`), reconstructed point in time from
``opportunity_history`` with :func:`revops_kit.pipeline.pipeline_snapshot`.

How P is learned (no look-ahead)
--------------------------------
Training rows are the pipeline **as it stood** at each month start ``t`` of the ``lookback_months``
before ``as_of`` whose outcome window ``[t, t + w)`` — ``w`` = days from ``as_of`` to the period
end — ended on or before ``as_of``; the label is "won within the window" (the opportunity's state
at ``t + w`` is won). Only history known at ``as_of`` is used, so the forecast can be backtested
honestly. Features of each open opportunity at its snapshot date:

* ``stage`` (as it was then),
* ``days_in_stage`` — days since it entered that stage (log scale),
* ``amount_band`` — quartile of the training amounts it falls in (bands learned from the data, so
  they fit any company's deal sizes),
* ``source`` (lead source; ``"(missing)"`` when empty) and ``type`` (new business / expansion),
* ``closes_in_window`` — whether its expected close date (as it was then) falls before the window
  ends (stale close dates in the past count as "yes"; missing ones as a separate level).

The model is an L2-regularised logistic regression (scikit-learn, ``C``, default 1.0) on one-hot
encoded categories and the log days: smooth where data are thin (a rare source × stage does not get
a 0 % or 100 % rate), and monotone in nothing it should not be. :func:`pipeline_calibration`
checks it out of time: predicted probability bins against what happened.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..formatting import distinct_money_labels
from .._common import as_list, attach_columns
from ..errors import MissingTableError, RevOpsError
from ..periods import Period, PeriodLike, as_period
from ..policies import DEFAULT_POLICY, MetricPolicy

__all__ = [
    "WinProbabilityModel",
    "fit_win_probability",
    "pipeline_forecast",
    "pipeline_calibration",
    "forecast_comparison",
]

FEATURES_CAT = ["stage", "amount_band", "source", "type", "closes_in_window"]
FEATURES_NUM = ["log_days_in_stage"]


def _pipeline():
    from .. import pipeline

    return pipeline


def _tables(data):
    if data.opportunities is None:
        raise MissingTableError("the pipeline forecast needs table opportunities, which the dataset "
                                f"{data.source or '(in memory)'} does not have")
    return data.opportunities, data.opportunity_history


def _timeline(opportunities, history, fx_rates, policy):
    """The point-in-time timeline with ``stage_entered`` (start of the current run of a stage)."""
    from ..timeline import cached_timeline

    return _with_stage_entered(cached_timeline(opportunities, history, fx_rates=fx_rates, policy=policy))


def _with_stage_entered(tl: pd.DataFrame) -> pd.DataFrame:
    if "stage_entered" in tl.columns:
        return tl
    tl = tl.copy()
    ids = tl["opportunity_id"]
    new_run = (tl["stage"] != tl.groupby(ids, sort=False)["stage"].shift()) | (ids != ids.shift())
    run = new_run.cumsum()
    tl["stage_entered"] = tl.groupby(run)["at"].transform("min")
    return tl


def _snapshot(opportunities, tl, at, types, *, history=None, fx_rates=None,
              policy=DEFAULT_POLICY, entered_at=None) -> pd.DataFrame:
    snap = _pipeline().pipeline_snapshot(opportunities, at, history=history, fx_rates=fx_rates,
                                         policy=policy)
    if types is not None and "type" in snap.columns:
        snap = snap[snap["type"].isin(list(types))]
    snap = snap.copy()
    entered = entered_at(snap["opportunity_id"], at) if entered_at is not None else None
    if entered is None:
        last = tl[tl["at"] < pd.Timestamp(at)].drop_duplicates("opportunity_id", keep="last") \
            .set_index("opportunity_id")["stage_entered"]
        entered = snap["opportunity_id"].map(last)
    snap["stage_entered"] = entered
    return snap.reset_index(drop=True)


_DAYS = 1_000_000  # > any day number: key = opportunity code × _DAYS + day
_DAY_NS = 86_400_000_000_000


class _Cache:
    """Point-in-time snapshots and outcomes of one timeline, memoised (many forecasts of a
    comparison or calibration share the same month-start snapshots)."""

    def __init__(self, opportunities, tl, types, fx_rates=None, policy=DEFAULT_POLICY, history=None):
        self.opportunities, self.tl, self.types, self.history = opportunities, tl, types, history
        self.fx_rates, self.policy = fx_rates, policy
        self._snap: dict = {}
        self._rows: dict = {}
        codes, uniques = pd.factorize(tl["opportunity_id"], sort=False)
        self._ids = pd.Index(uniques)
        day = tl["at"].to_numpy(dtype="datetime64[D]").astype("int64")
        order = np.lexsort((day, codes))  # by opportunity, then date (stable: history order kept)
        self._code = codes[order]
        self._key = self._code.astype("int64") * _DAYS + day[order]
        self._outcome = tl["outcome"].to_numpy(dtype=object)[order]
        self._outcomes = None
        self._entered = tl["stage_entered"].iloc[order].reset_index(drop=True) if "stage_entered" in tl.columns else None
        at_ns = tl["at"].to_numpy(dtype="datetime64[ns]").astype("int64")
        # day keys compare like the timestamps: dates only, none missing
        self._dates_only = bool(len(tl)) and not tl["at"].isna().any() and bool((at_ns % _DAY_NS == 0).all())

    def snapshot(self, at) -> pd.DataFrame:
        key = pd.Timestamp(at)
        if key not in self._snap:
            self._snap[key] = _snapshot(self.opportunities, self.tl, key, self.types, history=self.history,
                                        fx_rates=self.fx_rates, policy=self.policy, entered_at=self.entered_at)
        return self._snap[key]

    def training_rows(self, at) -> pd.DataFrame | None:
        """The snapshot at ``at`` as training rows (``snapshot`` = ``at``) without the outcome
        window, which differs between fits; ``None`` for an empty snapshot. Memoised: the fits of a
        comparison or calibration train on mostly the same month-start snapshots."""
        key = pd.Timestamp(at)
        if key not in self._rows:
            snap = self.snapshot(key)
            part = None
            if len(snap):
                part = snap[["opportunity_id", "amount", "stage_entered", "stage", "close_date"]
                            + [c for c in ("source", "type") if c in snap.columns]].copy()
                part["snapshot"] = key
            self._rows[key] = part
        return self._rows[key]

    def entered_at(self, ids: pd.Series, at) -> pd.Series | None:
        """``stage_entered`` of each opportunity's last timeline row dated before ``at`` (NaT when
        none), aligned with ``ids``: what ``tl[tl["at"] < at].drop_duplicates("opportunity_id",
        keep="last")`` gives (the timeline is sorted by opportunity and date), by a binary search
        in the sorted keys instead of filtering the whole timeline for every snapshot. ``None`` when
        the timeline or ``at`` carry a time of day (the caller then filters)."""
        at = pd.Timestamp(at)
        if self._entered is None or not self._dates_only or at != at.normalize():
            return None
        code = self._ids.get_indexer(pd.Index(ids)).astype("int64")
        day = np.datetime64(at.to_datetime64(), "D").astype("int64")
        j = np.searchsorted(self._key, code * _DAYS + day, side="left") - 1
        ok = (code >= 0) & (j >= 0)
        ok[ok] &= self._code[j[ok]] == code[ok]
        out = self._entered.iloc[np.where(ok, j, 0)].where(pd.Series(ok).to_numpy())
        return pd.Series(out.to_numpy(), index=ids.index, dtype=self._entered.dtype)

    def outcomes_at(self, ids: pd.Series, ends) -> np.ndarray:
        """Outcome of each opportunity ``ids[i]`` as it stood at ``ends[i]`` (last state dated
        before it; None when it did not exist yet)."""
        code = self._ids.get_indexer(pd.Index(ids)).astype("int64")
        end = pd.to_datetime(pd.Series(ends)).to_numpy(dtype="datetime64[D]").astype("int64")
        end = np.broadcast_to(end, code.shape) if end.size == 1 else end
        j = np.searchsorted(self._key, code * _DAYS + end, side="left") - 1
        ok = (code >= 0) & (j >= 0)
        ok[ok] &= self._code[j[ok]] == code[ok]
        out = np.full(len(code), None, dtype=object)
        out[ok] = self._outcome[j[ok]]
        return out

    def outcomes(self) -> pd.DataFrame:
        """:func:`revops_kit.pipeline.opportunity_outcomes` of the booking types (computed once)."""
        if self._outcomes is None:
            pl = _pipeline()
            out = pl.opportunity_outcomes(self.opportunities, history=self.history, fx_rates=self.fx_rates,
                                          policy=self.policy)
            if self.types is not None and "type" in out.columns:
                out = out[out["type"].isin(list(self.types))]
            self._outcomes = out
        return self._outcomes


def _cache_for(data, policy, cache) -> _Cache:
    if cache is not None:
        return cache
    opps, history = _tables(data)
    return _Cache(opps, _timeline(opps, history, data.fx_rates, policy), _pipeline().BOOKING_TYPES,
                  data.fx_rates, policy, history)


def _features(snap: pd.DataFrame, at, end, bands: np.ndarray) -> pd.DataFrame:
    """Model features of snapshot rows; ``at``/``end`` are dates or Series aligned with ``snap``."""
    at = at if isinstance(at, pd.Series) else pd.Timestamp(at)
    end = end if isinstance(end, pd.Series) else pd.Timestamp(end)
    out = pd.DataFrame(index=snap.index)
    out["stage"] = snap["stage"].astype(object).fillna("(missing)")
    days = (at - snap["stage_entered"]).dt.days.clip(lower=0).fillna(0)
    out["log_days_in_stage"] = np.log1p(days.astype("float64"))
    amount = snap["amount"].astype("float64")
    band = np.searchsorted(bands, amount.fillna(0).to_numpy(), side="right")
    labels = _band_labels(bands)
    out["amount_band"] = np.where(amount.isna(), "(missing)", np.array(labels, dtype=object)[band])
    for col in ("source", "type"):
        out[col] = snap[col].astype(object).fillna("(missing)") if col in snap.columns else "(missing)"
    close = snap["close_date"]
    out["closes_in_window"] = np.where(close.isna(), "(missing)",
                                       np.where((close < end).fillna(False), "yes", "no"))
    return out


def _band_labels(bands) -> list[str]:
    # distinct edges get distinct labels (1.1k-1.2k, not 1k-1k: two bands would merge into one
    # category of the model)
    edges = list(bands)
    k = dict(zip(edges, distinct_money_labels(edges)))
    labels = [f"< {k[edges[0]]}"]
    labels += [f"{k[a]}-{k[b]}" for a, b in zip(edges[:-1], edges[1:])]
    labels.append(f">= {k[edges[-1]]}")
    return labels


@dataclass(frozen=True)
class WinProbabilityModel:
    """A fitted P(won within ``window_days``) model (see the module docstring).

    Attributes
    ----------
    as_of : Timestamp
        Nothing on or after this date was used.
    window_days : int
        Length of the outcome window the model predicts for.
    bands : ndarray
        Amount band edges (quartiles of the training amounts, reporting currency).
    training : DataFrame
        The training rows: ``snapshot``, ``opportunity_id``, features, ``amount``, ``won``.
    base_rate : float
        Share of training rows won within the window.
    """

    as_of: pd.Timestamp
    window_days: int
    bands: np.ndarray = field(repr=False)
    pipeline: object = field(repr=False)
    training: pd.DataFrame = field(repr=False)
    base_rate: float = float("nan")

    def predict(self, snap: pd.DataFrame, at, end) -> np.ndarray:
        """P(won before ``end``) for the open opportunities of a :func:`_snapshot` at ``at``."""
        if not len(snap):
            return np.zeros(0)
        if self.pipeline is None:  # one class only in training: its rate
            return np.full(len(snap), self.base_rate)
        X = _features(snap, at, end, self.bands)
        return self.pipeline.predict_proba(X[FEATURES_CAT + FEATURES_NUM])[:, 1]


def fit_win_probability(opportunities: pd.DataFrame, history: pd.DataFrame | None = None, *,
                        as_of, window_days: int, lookback_months: int = 24, C: float = 1.0,
                        fx_rates: pd.DataFrame | None = None, policy: MetricPolicy = DEFAULT_POLICY,
                        types=None, _cache: _Cache | None = None) -> WinProbabilityModel:
    """Learn P(won within ``window_days`` | features at the snapshot) from history before ``as_of``.

    ``types`` defaults to the booking types (new business + expansion). Raises a
    :class:`~revops_kit.errors.RevOpsError` naming ``as_of`` when no snapshot before it has a
    complete outcome window (too little history).
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    types = _pipeline().BOOKING_TYPES if types is None else types
    as_of = pd.Timestamp(as_of)
    if _cache is None:
        tl = _timeline(opportunities, history, fx_rates, policy)
        _cache = _Cache(opportunities, tl, types, fx_rates, policy, history)
    window = pd.Timedelta(days=int(window_days))
    last = (as_of - window).to_period("M").to_timestamp()
    while last + window > as_of:
        last -= pd.DateOffset(months=1)
    first = last - pd.DateOffset(months=int(lookback_months) - 1)
    created_min = opportunities["created_at"].min()
    snaps = [t for t in pd.date_range(first, last, freq="MS") if t > created_min]
    if not snaps:
        raise RevOpsError(f"pipeline forecast: no snapshot before as_of {as_of.date()} has a complete "
                          f"{window_days}-day outcome window (opportunities start "
                          f"{created_min.date()}); forecast a later period")
    train = pd.concat([part for part in map(_cache.training_rows, snaps) if part is not None],
                      ignore_index=True)
    train["window_end"] = train["snapshot"] + window
    train["won"] = (_cache.outcomes_at(train["opportunity_id"], train["window_end"]) == "won").astype(int)
    amounts = train["amount"].dropna()
    bands = np.unique(np.quantile(amounts, [0.25, 0.5, 0.75])) if len(amounts) else np.array([0.0])
    feats = _features(train, train["snapshot"], train["window_end"], bands)
    training = pd.concat([train[["snapshot", "opportunity_id", "amount", "won"]], feats], axis=1)
    base = float(training["won"].mean())
    if training["won"].nunique() < 2:
        model = None
    else:
        pre = ColumnTransformer([
            ("cat", OneHotEncoder(handle_unknown="ignore"), FEATURES_CAT),
            ("num", StandardScaler(), FEATURES_NUM),
        ])
        model = make_pipeline(pre, LogisticRegression(C=C, max_iter=1000))
        model.fit(training[FEATURES_CAT + FEATURES_NUM], training["won"])
    return WinProbabilityModel(as_of, int(window_days), bands, model, training, base)


def _window(p: Period, as_of) -> tuple[pd.Timestamp, int]:
    as_of = p.start if as_of is None else pd.Timestamp(as_of)
    if as_of >= p.end:
        raise RevOpsError(f"pipeline forecast: as_of {as_of.date()} is not before the end of {p} "
                          f"({p.end.date()}); the period is over, use its actual bookings")
    return as_of, max(int((p.end - max(as_of, p.start)).days), 1)


def pipeline_forecast(data, period: PeriodLike, *, as_of=None, by: str | list[str] | None = None,
                      lookback_months: int = 24, C: float = 1.0,
                      policy: MetricPolicy = DEFAULT_POLICY, detail: bool = False,
                      _cache: _Cache | None = None):
    """Expected bookings of ``period`` from the pipeline open at ``as_of`` (default: period start).

    expected_bookings = booked_to_date + Σ open amount × P(won by period end), over new-business
    and expansion opportunities (see the module docstring for how P is learned). Amounts in the
    reporting currency (``policy.reporting_currency``, ``fx_mode``).

    Parameters
    ----------
    data : RevOpsData
        Needs ``opportunities``; uses ``opportunity_history`` for the point-in-time pipeline.
    period : str or Period
    as_of : date, optional
        When the forecast is made; default the period start. Nothing after it is used.
    by : str or list, optional
        Opportunity columns (owner, team, source, type ...) or customer columns to split by.
    detail : bool
        Also return the open opportunities with their ``p_win`` and ``expected`` amount.

    Deals created after ``as_of`` are not in the open pipeline, so in a business with short sales
    cycles the pipeline forecast made at the start of a period is well below what gets booked:
    it answers "what will the pipeline we have now bring in", not "what will we book".

    Returns
    -------
    DataFrame (and the detail frame when ``detail=True``)
        ``period, as_of``, the ``by`` columns, ``open_pipeline`` (Σ amount open at as_of),
        ``open_opportunities``, ``expected_from_pipeline``, ``booked_to_date``,
        ``expected_bookings`` and ``value`` (= expected_bookings).
    """
    p = as_period(period)
    as_of, days = _window(p, as_of)
    opps, history = _tables(data)
    pl = _pipeline()
    cache = _cache_for(data, policy, _cache)
    tl = cache.tl
    model = fit_win_probability(opps, history, as_of=as_of, window_days=days,
                                lookback_months=lookback_months, C=C, fx_rates=data.fx_rates,
                                policy=policy, _cache=cache)
    snap = cache.snapshot(as_of).copy()
    snap["p_win"] = model.predict(snap, as_of, p.end)
    snap["expected"] = snap["amount"].fillna(0.0) * snap["p_win"]
    by = as_list(by)
    snap = attach_columns(snap.assign(customer_id=snap.get("customer_id")), data.customers, by,
                          table="opportunities") if by else snap
    booked = None
    if as_of > p.start:  # already won in [period start, as_of): the rules of pipeline.bookings
        out = cache.outcomes()
        won = out[(out["outcome"] == pl.WON) & (out["closed_on"] >= p.start) & (out["closed_on"] < as_of)]
        won = attach_columns(won, data.customers, by, table="opportunities") if by else won
        booked = won.assign(value=won["value"].fillna(0.0))
        booked = booked.groupby(by, dropna=False, observed=True)["value"].sum().reset_index() if by \
            else pd.DataFrame({"value": [float(booked["value"].sum())]})
    if by:
        agg = snap.groupby(by, dropna=False, observed=True).agg(
            open_pipeline=("amount", "sum"), open_opportunities=("opportunity_id", "size"),
            expected_from_pipeline=("expected", "sum")).reset_index()
        if booked is not None:
            agg = agg.merge(booked[by + ["value"]].rename(columns={"value": "booked_to_date"}),
                            on=by, how="outer")
        else:
            agg["booked_to_date"] = 0.0
    else:
        agg = pd.DataFrame({"open_pipeline": [float(snap["amount"].sum())],
                            "open_opportunities": [len(snap)],
                            "expected_from_pipeline": [float(snap["expected"].sum())],
                            "booked_to_date": [float(booked["value"].sum()) if booked is not None else 0.0]})
    agg = agg.fillna({"open_pipeline": 0.0, "open_opportunities": 0, "expected_from_pipeline": 0.0,
                      "booked_to_date": 0.0})
    agg["expected_bookings"] = agg["expected_from_pipeline"] + agg["booked_to_date"]
    agg["value"] = agg["expected_bookings"]
    agg.insert(0, "as_of", as_of)
    agg.insert(0, "period", str(p))
    if detail:
        cols = ["opportunity_id", "owner", "team", "stage", "amount", "close_date", "p_win", "expected"]
        return agg, snap[[c for c in cols + by if c in snap.columns]].sort_values(
            "expected", ascending=False, kind="mergesort").reset_index(drop=True)
    return agg


def pipeline_calibration(data, periods, *, bins=(0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0),
                         lookback_months: int = 24, C: float = 1.0,
                         policy: MetricPolicy = DEFAULT_POLICY, _cache: _Cache | None = None) -> pd.DataFrame:
    """Out-of-time calibration of the win probabilities.

    For each period, the model is fitted on history before the period start and scores the
    pipeline open at the start; each opportunity's prediction is compared with whether it was won
    before the period end. Returns one row per probability bin: ``bin`` (``"10%–20%"`` = p in
    (0.1, 0.2]; the first bin includes 0), ``opportunities``, ``mean_predicted``, ``observed_win_rate``, ``predicted_amount`` (Σ amount × p),
    ``won_amount`` (Σ amount won) — a calibrated model has ``mean_predicted ≈ observed_win_rate``.
    """
    opps, history = _tables(data)
    cache = _cache_for(data, policy, _cache)
    rows = []
    for period in periods:
        p = as_period(period)
        as_of, days = _window(p, None)
        model = fit_win_probability(opps, history, as_of=as_of, window_days=days,
                                    lookback_months=lookback_months, C=C, fx_rates=data.fx_rates,
                                    policy=policy, _cache=cache)
        snap = cache.snapshot(as_of)
        rows.append(pd.DataFrame({"period": str(p), "p_win": model.predict(snap, as_of, p.end),
                                  "amount": snap["amount"].fillna(0.0).to_numpy(),
                                  "won": cache.outcomes_at(snap["opportunity_id"], p.end) == "won"}))
    scored = pd.concat(rows, ignore_index=True)
    edges = np.asarray(bins, dtype="float64")
    cut = pd.cut(scored["p_win"], edges, include_lowest=True)
    g = scored.assign(bin=cut, won_amount=scored["amount"] * scored["won"],
                      predicted_amount=scored["amount"] * scored["p_win"]).groupby("bin", observed=False)
    out = pd.DataFrame({
        "opportunities": g.size(),
        "mean_predicted": g["p_win"].mean(),
        "observed_win_rate": g["won"].mean(),
        "predicted_amount": g["predicted_amount"].sum(),
        "won_amount": g["won_amount"].sum(),
    }).reset_index()
    out["bin"] = [f"{lo:.0%}–{hi:.0%}" for lo, hi in zip(edges[:-1], edges[1:])]
    return out


def forecast_comparison(data, periods, *, lookback_months: int = 24,
                        policy: MetricPolicy = DEFAULT_POLICY, _cache: _Cache | None = None) -> pd.DataFrame:
    """Pipeline forecast, submitted forecasts and actual bookings side by side.

    For every period and every date on which forecasts were submitted for it (``forecast_submissions``;
    without that table, the period start only): the pipeline forecast made as of that date, the
    total of the ``commit`` and ``best_case`` submissions made that day (the latest per owner), and
    the period's actual bookings (:func:`revops_kit.pipeline.bookings`). Columns: ``period,
    as_of, pipeline_forecast, commit, best_case, actual`` and each forecast's error relative to
    the actual (``*_error`` = forecast ÷ actual − 1).
    """
    opps, history = _tables(data)
    pl = _pipeline()
    cache = _cache_for(data, policy, _cache)
    tl = cache.tl
    subs = data.forecast_submissions
    rows = []
    for period in periods:
        p = as_period(period)
        actual = float(pl.bookings(opps, p, history=history, fx_rates=data.fx_rates,
                                   policy=policy)["value"].sum())
        if subs is not None:
            mine = subs[subs["period"].astype(str) == str(p)]
            dates = sorted(pd.to_datetime(mine["submitted_at"]).unique())
        else:
            mine, dates = None, [p.start]
        for when in dates or [p.start]:
            when = pd.Timestamp(when)
            if when >= p.end:
                continue
            # a submission made on day d is compared with the pipeline at the close of day d
            as_of = when + pd.Timedelta(days=1) if mine is not None else when
            as_of = min(as_of, p.end - pd.Timedelta(days=1))
            fc = pipeline_forecast(data, p, as_of=as_of, lookback_months=lookback_months, policy=policy,
                                   _cache=cache)
            row = {"period": str(p), "as_of": when, "pipeline_forecast": float(fc["value"].iloc[0])}
            if mine is not None:
                from .submitted import latest_submissions

                day = latest_submissions(mine[pd.to_datetime(mine["submitted_at"]) <= when])
                for cat in ("commit", "best_case"):
                    row[cat] = float(day.loc[day["category"] == cat, "amount"].sum()) \
                        if "category" in day.columns else np.nan
            row["actual"] = actual
            rows.append(row)
    out = pd.DataFrame(rows)
    for col in ("pipeline_forecast", "commit", "best_case"):
        if col in out.columns:
            out[f"{col}_error"] = np.where(out["actual"] > 0, out[col] / out["actual"].where(out["actual"] > 0) - 1, np.nan)
    return out
