"""Honest evaluation of churn models: time-based backtests and seeded cross-validation.

Every metric is reported next to the trivial **prevalence baseline**, which predicts the training
set's churn rate for everyone (ROC-AUC 0.5, PR-AUC = the test churn rate, and the Brier score and
log loss of a constant forecast).

Metrics (``*_score`` higher is better, ``*_loss``/``brier``/``ece`` lower is better):

* ``roc_auc`` — area under the ROC curve (ranking quality; 0.5 = random);
* ``pr_auc`` — average precision (area under the precision-recall curve; baseline = churn rate);
* ``brier`` — mean squared error of the probabilities;
* ``log_loss`` — mean negative log-likelihood (probabilities clipped to [1e-15, 1 − 1e-15]);
* ``ece`` — expected calibration error: Σ_b (n_b / N) · |observed rate_b − mean predicted_b| over
  ``n_bins`` equal-count (quantile) bins of the predicted probability, ties sharing a bin (see
  :func:`calibration_table`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score
from sklearn.model_selection import StratifiedKFold

from ..errors import PeriodError
from ..policies import DEFAULT_POLICY, MetricPolicy
from .features import LABEL, build_training_set, default_train_dates, observed_until
from .model import MODEL_KINDS, ModelError, make_model, single_threaded

__all__ = [
    "classification_metrics",
    "lift_table",
    "calibration_table",
    "expected_calibration_error",
    "backtest",
    "BacktestResult",
    "cross_validate",
    "CVResult",
    "METRICS",
    "BASELINE",
]

#: Metric columns, in report order.
METRICS = ("roc_auc", "pr_auc", "brier", "log_loss", "ece")
#: Name of the prevalence baseline in result frames.
BASELINE = "baseline"
_EPS = 1e-15


def _check_binary(y: np.ndarray, where: str) -> None:
    values = set(np.unique(y).tolist())
    if not values <= {0, 1}:
        raise ModelError(f"{where}: labels must be 0/1, got values {sorted(values)[:5]}")
    if len(values) < 2:
        what = "no customer churned" if values == {0} else "every customer churned"
        raise ModelError(f"{where}: {what} ({len(y):,} customers), so the model cannot be judged: "
                         "ROC-AUC and PR-AUC need both churners and non-churners")


def _ranks_desc(p: np.ndarray) -> np.ndarray:
    """0-based rank of each probability, highest first; ties keep input order (deterministic)."""
    order = np.lexsort((np.arange(len(p)), -p))
    ranks = np.empty(len(p), dtype=np.int64)
    ranks[order] = np.arange(len(p))
    return ranks


def calibration_table(y, p, *, n_bins: int = 10) -> pd.DataFrame:
    """Reliability table over ``n_bins`` equal-count bins of the predicted probability.

    Bin edges are the ``n_bins``-quantiles of ``p``; equal probabilities always share a bin, so a
    constant forecast (the baseline) is one bin and its calibration error is
    ``|churn rate − forecast|``. Bin 1 holds the lowest probabilities. Columns: ``bin, customers,
    churners, mean_predicted, observed_rate, gap`` (observed − predicted), ``p_min, p_max``.

    >>> calibration_table([0, 0, 1, 1], [0.1, 0.2, 0.7, 0.9], n_bins=2)[["bin", "mean_predicted", "observed_rate"]]
       bin  mean_predicted  observed_rate
    0    1            0.15            0.0
    1    2            0.80            1.0
    """
    y = np.asarray(y, dtype="float64")
    p = np.asarray(p, dtype="float64")
    if len(p) == 0:
        raise ModelError("calibration_table: no predictions")
    k = max(1, int(n_bins))
    inner = np.unique(np.quantile(p, np.linspace(0, 1, k + 1)[1:-1], method="lower"))
    codes = np.searchsorted(inner, p, side="left")  # p == edge: lower bin
    frame = pd.DataFrame({"code": codes, "y": y, "p": p})
    out = frame.groupby("code").agg(customers=("y", "size"), churners=("y", "sum"),
                                    mean_predicted=("p", "mean"), observed_rate=("y", "mean"),
                                    p_min=("p", "min"), p_max=("p", "max")).reset_index(drop=True)
    out.insert(0, "bin", np.arange(1, len(out) + 1))
    out["gap"] = out["observed_rate"] - out["mean_predicted"]
    out["churners"] = out["churners"].astype("int64")
    return out[["bin", "customers", "churners", "mean_predicted", "observed_rate", "gap", "p_min", "p_max"]]


def expected_calibration_error(y, p, *, n_bins: int = 10) -> float:
    """ECE = Σ_b (n_b / N) · |observed_rate_b − mean_predicted_b| over equal-count bins.

    >>> expected_calibration_error([0, 0, 1, 1], [0.1, 0.2, 0.7, 0.9], n_bins=2)
    0.175
    """
    t = calibration_table(y, p, n_bins=n_bins)
    return float(round((t["customers"] * t["gap"].abs()).sum() / t["customers"].sum(), 12))


def lift_table(y, p, *, n_bins: int = 10) -> pd.DataFrame:
    """Lift and capture rate by decile (bin 1 = the highest predicted risk).

    Columns: ``decile, customers, churners, churn_rate, mean_predicted, lift`` (churn rate ÷
    overall churn rate), ``cumulative_customers, cumulative_churners, capture`` (share of all
    churners found in deciles 1..d), ``cumulative_lift`` and ``baseline_capture`` (what random
    targeting of the same share of customers finds: d / n_bins by count).
    """
    y = np.asarray(y, dtype="float64")
    p = np.asarray(p, dtype="float64")
    n = len(p)
    if n == 0:
        raise ModelError("lift_table: no predictions")
    k = max(1, min(int(n_bins), n))
    decile = (_ranks_desc(p) * k) // n + 1
    frame = pd.DataFrame({"decile": decile, "y": y, "p": p})
    out = frame.groupby("decile").agg(customers=("y", "size"), churners=("y", "sum"),
                                      mean_predicted=("p", "mean")).reset_index()
    total_rate = y.mean()
    total = y.sum()
    out["churners"] = out["churners"].astype("int64")
    out["churn_rate"] = out["churners"] / out["customers"]
    out["lift"] = out["churn_rate"] / total_rate if total_rate > 0 else np.nan
    out["cumulative_customers"] = out["customers"].cumsum()
    out["cumulative_churners"] = out["churners"].cumsum()
    out["capture"] = out["cumulative_churners"] / total if total > 0 else np.nan
    out["cumulative_lift"] = (out["cumulative_churners"] / out["cumulative_customers"]) / total_rate \
        if total_rate > 0 else np.nan
    out["baseline_capture"] = out["cumulative_customers"] / n
    return out[["decile", "customers", "churners", "churn_rate", "mean_predicted", "lift",
                "cumulative_customers", "cumulative_churners", "capture", "cumulative_lift",
                "baseline_capture"]]


def classification_metrics(y, p, *, n_bins: int = 10) -> dict[str, float]:
    """ROC-AUC, PR-AUC (average precision), Brier score, log loss and ECE of probabilities ``p``.

    >>> m = classification_metrics([0, 0, 1, 1], [0.1, 0.2, 0.7, 0.9], n_bins=2)
    >>> m["roc_auc"], round(m["brier"], 4)
    (1.0, 0.0375)
    """
    y = np.asarray(y).astype("int64")
    p = np.clip(np.asarray(p, dtype="float64"), _EPS, 1 - _EPS)
    _check_binary(y, "classification_metrics")
    return {
        "roc_auc": float(roc_auc_score(y, p)),
        "pr_auc": float(average_precision_score(y, p)),
        "brier": float(brier_score_loss(y, p)),
        "log_loss": float(log_loss(y, p, labels=[0, 1])),
        "ece": expected_calibration_error(y, p, n_bins=n_bins),
    }


def _metrics_frame(y, probs: dict[str, np.ndarray], n_bins: int) -> pd.DataFrame:
    rows = [{"model": name, **classification_metrics(y, p, n_bins=n_bins)} for name, p in probs.items()]
    out = pd.DataFrame(rows)
    base = out.loc[out["model"] == BASELINE].iloc[0] if (out["model"] == BASELINE).any() else None
    if base is not None:
        for m in METRICS:
            out[f"{m}_vs_baseline"] = out[m] - base[m]
    return out


# ---------------------------------------------------------------------------- backtest
@dataclass
class BacktestResult:
    """Outcome of :func:`backtest`.

    Attributes
    ----------
    test_as_of, train_as_of, horizon_months
        The test cut-off, the training cut-offs and the label window.
    metrics : DataFrame
        One row per model and the ``baseline``: ``roc_auc, pr_auc, brier, log_loss, ece`` and the
        difference of each to the baseline.
    predictions : DataFrame
        ``customer_id, as_of, churned`` and one probability column per model (``p_<model>``),
        ``p_baseline`` included.
    models : dict
        The fitted pipelines by kind.
    train_rows, train_churners, test_rows, test_churners : int
    """

    test_as_of: pd.Timestamp
    train_as_of: list[pd.Timestamp]
    horizon_months: int
    metrics: pd.DataFrame
    predictions: pd.DataFrame
    models: dict = field(repr=False)
    train_rows: int = 0
    train_churners: int = 0
    test_rows: int = 0
    test_churners: int = 0
    n_bins: int = 10
    train_set: pd.DataFrame | None = field(default=None, repr=False)
    test_set: pd.DataFrame | None = field(default=None, repr=False)

    def refit(self, data, as_of=None, *, kind: str | None = None, **kwargs):
        """A :class:`~revops_kit.churn.scoring.ChurnModel` for scoring on ``as_of``.

        Trained on the cut-offs of :func:`~revops_kit.churn.scoring.fit_churn_model` for ``as_of``
        (default: the test cut-off + horizon, i.e. every label known then) with this backtest's
        horizon; rows already built for the backtest are reused. ``kind`` defaults to
        :attr:`best`; other keyword arguments go to ``fit_churn_model``.
        """
        from .scoring import fit_churn_model

        when = self.test_as_of + pd.DateOffset(months=self.horizon_months) if as_of is None else as_of
        prebuilt = pd.concat([f for f in (self.train_set, self.test_set) if f is not None],
                             ignore_index=True)
        return fit_churn_model(data, when, kind=kind or self.best, horizon_months=self.horizon_months,
                               prebuilt=prebuilt, **kwargs)

    @property
    def best(self) -> str:
        """The model kind with the highest test ROC-AUC (ties: first in ``MODEL_KINDS`` order)."""
        models = self.metrics.loc[self.metrics["model"] != BASELINE]
        return str(models.sort_values("roc_auc", ascending=False, kind="mergesort")["model"].iloc[0])

    def lift(self, model: str | None = None) -> pd.DataFrame:
        """Lift table (:func:`lift_table`) of ``model`` (default: the best) on the test set."""
        model = model or self.best
        return lift_table(self.predictions[LABEL], self.predictions[f"p_{model}"], n_bins=self.n_bins)

    def calibration(self, model: str | None = None) -> pd.DataFrame:
        """Calibration table of one model, or of every model and the baseline stacked (``model`` col)."""
        names = [model] if model else [m for m in self.metrics["model"]]
        frames = [calibration_table(self.predictions[LABEL], self.predictions[f"p_{m}"],
                                    n_bins=self.n_bins).assign(model=m) for m in names]
        out = pd.concat(frames, ignore_index=True)
        return out[["model"] + [c for c in out.columns if c != "model"]]

    def lifts(self) -> pd.DataFrame:
        """Lift tables of every model stacked (``model`` column)."""
        names = [m for m in self.metrics["model"] if m != BASELINE]
        out = pd.concat([self.lift(m).assign(model=m) for m in names], ignore_index=True)
        return out[["model"] + [c for c in out.columns if c != "model"]]

    def summary(self, decimals: int = 3) -> pd.DataFrame:
        """The test metrics of each model and the baseline, rounded (the notebook's headline)."""
        out = self.metrics[["model", *METRICS]].copy()
        out[list(METRICS)] = out[list(METRICS)].round(decimals)
        return out

    def model_card(self) -> pd.DataFrame:
        """Data window, horizon, sample sizes and the best model's metrics vs the baseline."""
        m = self.metrics.set_index("model")
        best = self.best
        rows = [
            ("training cut-offs", f"{len(self.train_as_of)} dates, "
                                  f"{self.train_as_of[0].date()} .. {self.train_as_of[-1].date()}"),
            ("features from", "rows dated before each cut-off"),
            ("test cut-off", str(self.test_as_of.date())),
            ("horizon", f"{self.horizon_months} months (churned = no MRR on "
                        f"{(self.test_as_of + pd.DateOffset(months=self.horizon_months)).date()})"),
            ("training rows (customer × cut-off)", f"{self.train_rows:,} ({self.train_churners:,} churned, "
                                                    f"{self.train_churners / max(self.train_rows, 1):.1%})"),
            ("test customers", f"{self.test_rows:,} ({self.test_churners:,} churned, "
                               f"{self.test_churners / max(self.test_rows, 1):.1%})"),
            ("best model (test ROC-AUC)", best),
        ]
        for metric in METRICS:
            rows.append((f"{metric}: {best} vs baseline",
                         f"{m.loc[best, metric]:.3f} vs {m.loc[BASELINE, metric]:.3f}"))
        return pd.DataFrame(rows, columns=["item", "value"])


def backtest(data, test_as_of=None, *, until=None, train_as_of: Sequence | None = None,
             horizon_months: int = 3,
             kinds: Sequence[str] = MODEL_KINDS, calibrate: bool = False, random_state: int = 0,
             n_train_dates: int = 8, step_months: int = 3, n_bins: int = 10,
             policy: MetricPolicy = DEFAULT_POLICY) -> BacktestResult:
    """Time-based backtest: train on earlier cut-offs, test on a later one.

    Parameters
    ----------
    data : RevOpsData
    test_as_of : date, optional
        Test cut-off; default the latest one whose label window is observed by ``until``:
        ``min(until, first day after the data's last month) − horizon_months``.
    until : date, optional
        Last day + 1 that the backtest may look at (e.g. a report period's end); default the end
        of the data.
    train_as_of : list of dates, optional
        Training cut-offs; default :func:`default_train_dates` (``n_train_dates`` every
        ``step_months``, the latest ``horizon_months`` before the test cut-off).
    kinds : sequence of {"logistic", "gbm"}
    calibrate, random_state
        Passed to :func:`~revops_kit.churn.model.make_model`.

    Raises
    ------
    PeriodError
        If a training cut-off's label window reaches past ``test_as_of`` (the model would learn
        from the test period).
    """
    h = int(horizon_months)
    if test_as_of is None:
        end = observed_until(data)
        if until is not None:
            end = min(end, pd.Timestamp(until).normalize())
        test_as_of = end - pd.DateOffset(months=h)
    test_as_of = pd.Timestamp(test_as_of).normalize()
    if train_as_of is None:
        train = default_train_dates(test_as_of, horizon_months=h, n_dates=n_train_dates,
                                    step_months=step_months)
        first, _ = data.date_range()
        train = [d for d in train if d > first]
    else:
        train = sorted({pd.Timestamp(d).normalize() for d in train_as_of})
    bad = [d for d in train if d + pd.DateOffset(months=h) > test_as_of]
    if bad:
        raise PeriodError(
            f"backtest: training cut-off {bad[0].date()} + {h} months reaches past the test cut-off "
            f"{test_as_of.date()}; its labels would come from the test period. Use cut-offs on or "
            f"before {(test_as_of - pd.DateOffset(months=h)).date()}")
    if not train:
        raise PeriodError(f"backtest: no training cut-off before {test_as_of.date()} inside the data")
    unknown = [k for k in kinds if k not in MODEL_KINDS]
    if unknown:
        raise ModelError(f"backtest: kinds must be among {MODEL_KINDS}, got {unknown}")
    tr = build_training_set(data, train, h, policy=policy)
    te = build_training_set(data, test_as_of, h, policy=policy)
    _check_binary(tr[LABEL].to_numpy(), f"backtest training set ({len(train)} cut-offs)")
    _check_binary(te[LABEL].to_numpy(), f"backtest test set (cut-off {test_as_of.date()})")
    probs: dict[str, np.ndarray] = {}
    models = {}
    for kind in kinds:
        model = make_model(kind, calibrate=calibrate, random_state=random_state)
        with single_threaded():
            model.fit(tr, tr[LABEL])
            probs[kind] = model.predict_proba(te)[:, 1]
        models[kind] = model
    probs[BASELINE] = np.full(len(te), float(tr[LABEL].mean()))
    preds = te[["customer_id", "as_of", LABEL]].copy()
    for name, p in probs.items():
        preds[f"p_{name}"] = p
    return BacktestResult(
        test_as_of=test_as_of, train_as_of=train, horizon_months=h,
        metrics=_metrics_frame(te[LABEL].to_numpy(), probs, n_bins), predictions=preds,
        models=models, train_rows=len(tr), train_churners=int(tr[LABEL].sum()), test_rows=len(te),
        test_churners=int(te[LABEL].sum()), n_bins=n_bins, train_set=tr, test_set=te)


# ---------------------------------------------------------------------------- cross-validation
@dataclass
class CVResult:
    """Outcome of :func:`cross_validate`.

    ``folds``: one row per model × fold with the metrics; ``summary``: one row per model with
    ``<metric>_mean`` and ``<metric>_std`` (population std over folds, ``ddof=0``).
    """

    folds: pd.DataFrame
    summary: pd.DataFrame
    cv: int
    seed: int

    def as_dict(self) -> dict:
        """``{model: {metric: {"mean": .., "std": ..}}}`` (the JSON of ``revops churn evaluate``)."""
        out: dict = {}
        for row in self.summary.itertuples(index=False):
            r = row._asdict()
            out[r["model"]] = {m: {"mean": r[f"{m}_mean"], "std": r[f"{m}_std"]} for m in METRICS}
        return out


def cross_validate(X: pd.DataFrame, y, *, kinds: Sequence[str] = MODEL_KINDS, cv: int = 5,
                   seed: int = 42, numeric: Sequence[str] | None = None,
                   categorical: Sequence[str] | None = None, calibrate: bool = False,
                   n_bins: int = 10) -> CVResult:
    """Stratified k-fold cross-validation of each model kind and the prevalence baseline.

    Folds come from ``StratifiedKFold(n_splits=cv, shuffle=True, random_state=seed)``, so the
    same ``seed`` gives the same folds and the same numbers. Each model is
    :func:`~revops_kit.churn.model.make_model` with ``random_state=seed``; the baseline predicts
    the training folds' churn rate.
    """
    y = np.asarray(y).astype("int64")
    _check_binary(y, "cross_validate")
    if int(cv) < 2:
        raise ModelError(f"cross_validate: cv must be at least 2, got {cv!r}")
    minority = int(min(y.sum(), len(y) - y.sum()))
    if minority < int(cv):
        raise ModelError(f"cross_validate: cv={cv} folds need at least {cv} rows of each class; "
                         f"the rarer class has {minority}")
    unknown = [k for k in kinds if k not in MODEL_KINDS]
    if unknown:
        raise ModelError(f"cross_validate: kinds must be among {MODEL_KINDS}, got {unknown}")
    splitter = StratifiedKFold(n_splits=int(cv), shuffle=True, random_state=int(seed))
    rows = []
    for fold, (tr, te) in enumerate(splitter.split(np.zeros(len(y)), y), start=1):
        Xtr, Xte = X.iloc[tr], X.iloc[te]
        for kind in kinds:
            model = make_model(kind, calibrate=calibrate, random_state=int(seed), numeric=numeric,
                               categorical=categorical)
            with single_threaded():
                model.fit(Xtr, y[tr])
                p = model.predict_proba(Xte)[:, 1]
            rows.append({"model": kind, "fold": fold, **classification_metrics(y[te], p, n_bins=n_bins)})
        rows.append({"model": BASELINE, "fold": fold,
                     **classification_metrics(y[te], np.full(len(te), y[tr].mean()), n_bins=n_bins)})
    folds = pd.DataFrame(rows)
    order = {k: i for i, k in enumerate(list(kinds) + [BASELINE])}
    agg = folds.groupby("model")[list(METRICS)].agg(["mean", lambda s: float(np.std(s, ddof=0))])
    agg.columns = [f"{m}_{'mean' if stat == 'mean' else 'std'}" for m, stat in agg.columns]
    summary = agg.reset_index()
    summary = summary.sort_values("model", key=lambda s: s.map(order)).reset_index(drop=True)
    return CVResult(folds=folds, summary=summary, cv=int(cv), seed=int(seed))
