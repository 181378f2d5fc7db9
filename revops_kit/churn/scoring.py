"""Scoring: churn probability, ARR at risk and the drivers of each account's score.

Driver methods
--------------
* **Logistic regression** (uncalibrated): exact additive decomposition of the log-odds. For each
  input feature *j*, ``contribution_j = Σ_k coef_k · (z_k − mean_k)`` over the model columns *k*
  derived from *j* (the standardised value and its missing-value indicator, or its one-hot
  columns), where ``mean_k`` is the column's mean over the training rows. For a numeric feature
  this is coefficient × standardised value (standardised columns have mean 0). The log-odds of an
  account = log-odds of an average training account + Σ_j contribution_j.
* **Gradient boosting** (and any calibrated model): replacement effect. ``contribution_j`` is the
  predicted log-odds of the account minus the predicted log-odds when feature *j* alone is set to
  its training reference value (median for numeric features — missing if the feature was always
  missing —, most frequent value for categorical ones). Positive = the account's value of *j*
  raises its risk compared with a typical value. These effects do not add up to the total
  (interactions are not split), they need one extra prediction per feature, and they are exact
  for what the model does with that one feature changed — nothing is sampled or permuted.

Global drivers are the mean absolute contribution of each feature over the scored accounts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from .._common import safe_divide
from ..errors import PeriodError
from ..policies import DEFAULT_POLICY, MetricPolicy
from .features import LABEL, build_features, build_training_set, default_train_dates
from .model import MISSING, MODEL_KINDS, ModelError, make_model, model_columns, single_threaded

__all__ = ["ChurnModel", "fit_churn_model", "risk_table", "account_drivers", "global_drivers",
           "risk_summary", "score_date", "RISK_COLUMNS"]

#: Columns of :func:`risk_table`, in order.
RISK_COLUMNS = ["rank", "customer_id", "name", "segment", "probability", "mrr", "arr", "arr_at_risk",
                "renewal_date", "months_to_renewal", "top_drivers"]
_CLIP = 1e-6


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype="float64"), _CLIP, 1 - _CLIP)
    return np.log(p / (1 - p))


@dataclass
class ChurnModel:
    """A fitted churn pipeline with what scoring and drivers need.

    Attributes
    ----------
    pipeline : sklearn Pipeline
        From :func:`~revops_kit.churn.model.make_model`, fitted.
    kind : str
    horizon_months : int
    train_as_of : list of Timestamp
    train_rows, train_churners : int
    reference : dict
        Training median / mode per feature (replacement reference of the driver method).
    """

    pipeline: object = field(repr=False)
    kind: str
    horizon_months: int
    train_as_of: list
    train_rows: int
    train_churners: int
    reference: dict = field(repr=False)
    _z_mean: np.ndarray | None = field(default=None, repr=False)

    @property
    def numeric(self) -> list[str]:
        return model_columns(self.pipeline)[0]

    @property
    def categorical(self) -> list[str]:
        return model_columns(self.pipeline)[1]

    @property
    def features(self) -> list[str]:
        return self.numeric + self.categorical

    @property
    def driver_method(self) -> str:
        return "coefficient" if self._linear() is not None else "replacement"

    def predict_proba(self, features: pd.DataFrame) -> pd.Series:
        """Churn probability within the horizon for each row of ``features``."""
        with single_threaded():
            p = self.pipeline.predict_proba(features)[:, 1]
        return pd.Series(p, index=features.index, name="probability")

    # ------------------------------------------------------------------ drivers
    def _linear(self) -> LogisticRegression | None:
        est = self.pipeline.named_steps["model"]
        return est if isinstance(est, LogisticRegression) else None

    def contributions(self, features: pd.DataFrame) -> pd.DataFrame:
        """Log-odds contribution of every feature for every row (same index, one column per feature)."""
        lin = self._linear()
        with single_threaded():
            if lin is not None:
                return self._linear_contributions(features, lin)
            return self._replacement_contributions(features)

    def _linear_contributions(self, features: pd.DataFrame, lin: LogisticRegression) -> pd.DataFrame:
        cols = self.pipeline.named_steps["columns"].transform(features)
        prep = self.pipeline.named_steps["prep"]
        z = np.asarray(prep.transform(cols), dtype="float64")
        names = list(prep.get_feature_names_out())
        owner = _owners(names, self.numeric, self.categorical)
        centred = (z - self._z_mean) * lin.coef_[0]
        out = pd.DataFrame(0.0, index=features.index, columns=self.features)
        for k, feat in enumerate(owner):
            out[feat] += centred[:, k]
        return out

    def _replacement_contributions(self, features: pd.DataFrame) -> pd.DataFrame:
        feats = self.features
        frame = features.reset_index(drop=True)
        copies = [frame]
        for feat in feats:
            ref = self.reference[feat]
            if feat in self.numeric:
                copies.append(frame.assign(**{feat: np.float64(ref)}))
            else:
                copies.append(frame.assign(**{feat: np.nan if ref == MISSING else ref}))
        stacked = pd.concat(copies, ignore_index=True)  # one prediction call for every swap
        logits = _logit(self.pipeline.predict_proba(stacked)[:, 1]).reshape(len(copies), len(frame))
        return pd.DataFrame((logits[0] - logits[1:]).T, index=features.index, columns=feats)


def _owners(names: list[str], numeric: list[str], categorical: list[str]) -> list[str]:
    """Map each transformed column name back to the input feature it comes from."""
    owners = []
    for name in names:
        if name in numeric:
            owners.append(name)
            continue
        if name.startswith("missingindicator_") and name[len("missingindicator_"):] in numeric:
            owners.append(name[len("missingindicator_"):])
            continue
        match = [c for c in categorical if name.startswith(c + "_")]
        if not match:
            raise ModelError(f"churn drivers: cannot map model column {name!r} to a feature")
        owners.append(max(match, key=len))
    return owners


def _reference(frame: pd.DataFrame, numeric: list[str], categorical: list[str]) -> dict:
    ref: dict = {}
    for c in numeric:
        ref[c] = float(frame[c].median()) if frame[c].notna().any() else np.nan
    for c in categorical:
        text = frame[c].astype(object).where(frame[c].notna(), MISSING).map(str)
        counts = text.value_counts()
        counts = counts.sort_index(kind="mergesort").sort_values(ascending=False, kind="mergesort")
        ref[c] = counts.index[0]
    return ref


def fit_churn_model(data, as_of, *, kind: str = "logistic", horizon_months: int = 3,
                    train_as_of: Sequence | None = None, n_train_dates: int = 8, step_months: int = 3,
                    calibrate: bool = False, random_state: int = 0, prebuilt: pd.DataFrame | None = None,
                    policy: MetricPolicy = DEFAULT_POLICY) -> ChurnModel:
    """Fit a churn model usable at ``as_of``: trained only on labels known by ``as_of``.

    Training cut-offs default to :func:`~revops_kit.churn.evaluate.default_train_dates`
    (the latest ``horizon_months`` before ``as_of``, then every ``step_months``), dropping those
    before the data starts. ``prebuilt`` is an already built training set *with the same
    horizon and policy* (e.g. a backtest's); its rows for the wanted cut-offs are reused and
    only the missing cut-offs are built.

    Raises
    ------
    PeriodError
        If a training cut-off's label window ends after ``as_of``.
    """
    as_of = pd.Timestamp(as_of).normalize()
    h = int(horizon_months)
    if train_as_of is None:
        first, _ = data.date_range()
        train = [d for d in default_train_dates(as_of, horizon_months=h, n_dates=n_train_dates,
                                                step_months=step_months) if d > first]
    else:
        train = sorted({pd.Timestamp(d).normalize() for d in train_as_of})
    late = [d for d in train if d + pd.DateOffset(months=h) > as_of]
    if late:
        raise PeriodError(f"fit_churn_model: training cut-off {late[0].date()} + {h} months ends after "
                          f"as_of {as_of.date()}; its label is not known at as_of")
    if not train:
        raise PeriodError(f"fit_churn_model: no training cut-off inside the data before {as_of.date()}")
    have = set(pd.DatetimeIndex(prebuilt["as_of"]).unique()) if prebuilt is not None else set()
    reused = [d for d in train if d in have]
    missing = [d for d in train if d not in have]
    parts = [prebuilt.loc[prebuilt["as_of"].isin(reused)]] if reused else []
    if missing:
        parts.append(build_training_set(data, missing, h, policy=policy))
    tr = pd.concat(parts, ignore_index=True).sort_values(["as_of", "customer_id"], kind="mergesort") \
        .reset_index(drop=True)
    if tr[LABEL].nunique() < 2:
        raise ModelError(f"fit_churn_model: the training set ({len(tr)} rows over {len(train)} cut-offs) "
                         "has a single class; use more or other cut-offs")
    pipeline = make_model(kind, calibrate=calibrate, random_state=random_state)
    with single_threaded():
        pipeline.fit(tr, tr[LABEL])
    num, cat = model_columns(pipeline)
    model = ChurnModel(pipeline=pipeline, kind=kind, horizon_months=h, train_as_of=train,
                       train_rows=len(tr), train_churners=int(tr[LABEL].sum()),
                       reference=_reference(tr, num, cat))
    if model._linear() is not None:
        cols = pipeline.named_steps["columns"].transform(tr)
        model._z_mean = np.asarray(pipeline.named_steps["prep"].transform(cols), dtype="float64").mean(axis=0)
    return model


def _fmt(value) -> str:
    if isinstance(value, str):
        return value
    if value is None or pd.isna(value):
        return "missing"
    v = float(value)
    if v.is_integer() and abs(v) < 1e6:
        return f"{int(v)}"
    return f"{v:.3g}" if abs(v) < 1000 else f"{v:,.0f}"


def account_drivers(model: ChurnModel, features: pd.DataFrame, *, top: int = 3,
                    contributions: pd.DataFrame | None = None) -> pd.DataFrame:
    """The ``top`` features raising each account's risk the most (long format).

    Columns ``customer_id, as_of, rank, feature, value, contribution`` (log-odds; positive =
    raises the risk); only positive contributions are listed, so an account may have fewer.
    """
    contrib = model.contributions(features) if contributions is None else contributions
    values = contrib.to_numpy(dtype="float64")
    long = pd.DataFrame({"row": np.repeat(contrib.index.to_numpy(), values.shape[1]),
                         "feature": np.tile(np.asarray(contrib.columns, dtype=object), values.shape[0]),
                         "contribution": values.ravel()})
    long = long.loc[long["contribution"] > 1e-9]
    long = long.sort_values(["row", "contribution", "feature"], ascending=[True, False, True],
                            kind="mergesort")
    long["rank"] = long.groupby("row").cumcount() + 1
    long = long.loc[long["rank"] <= int(top)]
    values = [features.at[r, f] for r, f in zip(long["row"], long["feature"])]
    long["value"] = [_fmt(v) for v in values]
    long["customer_id"] = features.loc[long["row"], "customer_id"].to_numpy()
    long["as_of"] = features.loc[long["row"], "as_of"].to_numpy() if "as_of" in features.columns else pd.NaT
    return long[["customer_id", "as_of", "rank", "feature", "value", "contribution"]].reset_index(drop=True)


def global_drivers(model: ChurnModel, features: pd.DataFrame, *,
                   contributions: pd.DataFrame | None = None) -> pd.DataFrame:
    """Mean absolute log-odds contribution of each feature over ``features``, largest first.

    Columns ``feature, kind`` (numeric/categorical), ``mean_abs_contribution, share`` (of the
    total), ``direction``: for numeric features whether risk rises with higher or lower values
    (sign of the correlation between value and contribution), for categorical ones the value with
    the highest mean contribution.
    """
    contrib = model.contributions(features) if contributions is None else contributions
    rows = []
    for feat in model.features:
        c = contrib[feat]
        if feat in model.numeric:
            x = pd.to_numeric(features[feat], errors="coerce")
            ok = x.notna()
            if ok.sum() > 2 and x[ok].std() > 0 and c[ok].std() > 0:
                r = float(np.corrcoef(x[ok], c[ok])[0, 1])
                direction = "higher → more risk" if r > 0 else "lower → more risk"
            else:
                direction = "missing → more risk" if c[~ok].mean() > c[ok].mean() else "no clear direction" \
                    if (~ok).any() and ok.any() else "no clear direction"
            kind = "numeric"
        else:
            text = features[feat].astype(object).where(features[feat].notna(), MISSING).map(str)
            means = c.groupby(text).mean()
            means = means.sort_index(kind="mergesort").sort_values(ascending=False, kind="mergesort")
            direction = f"riskiest: {means.index[0]}" if len(means) else "no clear direction"
            kind = "categorical"
        rows.append({"feature": feat, "kind": kind, "mean_abs_contribution": float(c.abs().mean()),
                     "direction": direction})
    out = pd.DataFrame(rows)
    total = out["mean_abs_contribution"].sum()
    out["share"] = out["mean_abs_contribution"] / total if total > 0 else np.nan
    out = out.sort_values(["mean_abs_contribution", "feature"], ascending=[False, True], kind="mergesort")
    return out[["feature", "kind", "mean_abs_contribution", "share", "direction"]].reset_index(drop=True)


def risk_table(data, as_of, *, model: ChurnModel | None = None, kind: str = "logistic",
               horizon_months: int = 3, top_drivers: int = 3, random_state: int = 0,
               features: pd.DataFrame | None = None, contributions: pd.DataFrame | None = None,
               policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """Churn risk of every customer active at ``as_of``, largest ARR at risk first.

    ``model`` defaults to :func:`fit_churn_model` (``kind``, ``horizon_months``) trained on
    labels known at ``as_of``. ``features`` (:func:`build_features` at ``as_of``) and
    ``contributions`` (``model.contributions(features)``) may be passed when already computed.

    Returns
    -------
    DataFrame
        :data:`RISK_COLUMNS`: ``rank``, ``customer_id``, ``name`` and ``segment`` (from
        customers, when present), ``probability`` of churning within the horizon, ``mrr`` and
        ``arr`` (= 12 × MRR on the day before ``as_of``, reporting currency at the last month's
        rates), ``arr_at_risk`` = probability × ARR, ``renewal_date`` and ``months_to_renewal``
        (end of the paid/committed period on or after ``as_of``), ``top_drivers`` (text:
        ``feature=value (+log-odds)``, see :func:`account_drivers`). ``customer_id`` and
        ``probability`` are what ``accounts_at_risk(..., scores=...)`` reads.
    """
    as_of = pd.Timestamp(as_of).normalize()
    if model is None:
        model = fit_churn_model(data, as_of, kind=kind, horizon_months=horizon_months,
                                random_state=random_state, policy=policy)
    if features is None:
        features = build_features(data, as_of, policy=policy)
    if len(features) == 0:
        return pd.DataFrame(columns=RISK_COLUMNS)
    out = features[["customer_id"]].copy()
    out["probability"] = model.predict_proba(features).to_numpy()
    out["mrr"] = features["mrr"].to_numpy()
    out["arr"] = 12.0 * out["mrr"]
    out["arr_at_risk"] = out["probability"] * out["arr"]
    for col in ("renewal_date", "months_to_renewal"):
        out[col] = features[col].to_numpy() if col in features.columns else np.nan
    drivers = account_drivers(model, features, top=top_drivers, contributions=contributions)
    text = drivers.assign(t=[f"{f}={v} ({c:+.2f})" for f, v, c in
                             zip(drivers["feature"], drivers["value"], drivers["contribution"])])
    joined = text.groupby("customer_id", sort=False)["t"].agg("; ".join)
    out["top_drivers"] = out["customer_id"].map(joined).fillna("")
    cust = data.customers
    for col in ("name", "segment"):
        if cust is not None and col in cust.columns:
            out[col] = out["customer_id"].map(cust.drop_duplicates("customer_id").set_index("customer_id")[col])
        else:
            out[col] = np.nan
    out = out.sort_values(["arr_at_risk", "customer_id"], ascending=[False, True], kind="mergesort")
    out["rank"] = np.arange(1, len(out) + 1)
    return out[RISK_COLUMNS].reset_index(drop=True)


def score_date(period, *, as_of=None) -> pd.Timestamp:
    """The scoring cut-off of a report: ``as_of`` when given, else the period's end (exclusive).

    >>> score_date("2025-Q4").date(), score_date("2025-Q4", as_of="2025-11-01").date()
    (datetime.date(2026, 1, 1), datetime.date(2025, 11, 1))
    """
    from ..periods import as_period

    if as_of is not None and not (isinstance(as_of, float) and np.isnan(as_of)):
        return pd.Timestamp(as_of).normalize()
    return as_period(period).end


def risk_summary(risk: pd.DataFrame, *, by: str | None = "segment", threshold: float = 0.3) -> pd.DataFrame:
    """Accounts, ARR, expected churned accounts and ARR at risk, per ``by`` group and in total.

    ``expected_churners`` = Σ probability; ``arr_at_risk`` = Σ probability × ARR;
    ``high_risk_accounts`` = accounts with probability ≥ ``threshold``; ``arr_at_risk_share`` =
    ARR at risk ÷ ARR.
    """
    frame = risk.assign(_all="all accounts", _high=(risk["probability"] >= threshold).astype("int64"))
    keys = [by] if by and by in frame.columns else []
    parts = []
    for key in keys + ["_all"]:
        g = frame.assign(**{key: frame[key].astype(object).where(frame[key].notna(), "(missing)")}) \
            .groupby(key, sort=True).agg(accounts=("customer_id", "size"), arr=("arr", "sum"),
                                         expected_churners=("probability", "sum"),
                                         high_risk_accounts=("_high", "sum"),
                                         arr_at_risk=("arr_at_risk", "sum"))
        parts.append(g.rename_axis("group").reset_index())
    out = pd.concat(parts, ignore_index=True)
    out["arr_at_risk_share"] = safe_divide(out["arr_at_risk"], out["arr"], what="arr_at_risk_share")
    return out
