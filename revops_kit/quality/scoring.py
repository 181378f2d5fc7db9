"""Scores and summaries computed from the checks' pass rates.

A dimension's value for a table is ``passed ÷ checked`` summed over the dimension's checks on the
table (cells for completeness, rows otherwise; freshness counts one unit per table). The CRM
quality score is ``100 × Σ_d w_d · S_d ÷ Σ_d w_d`` over the dimensions with at least one CRM check
(see :func:`weighted_score`).
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd

from ..periods import Period
from ..schema import TABLES
from .config import DIMENSIONS
from .context import mrr_at_end, reporting_amount
from .run import QualityRun, with_detail

__all__ = [
    "weighted_score", "check_weights", "score_frame", "summary_frame", "scorecard_frame",
    "trend_rows", "worst_frame", "offenders_frame", "costs_frame", "aggregate_checks",
]


def weighted_score(checks: pd.DataFrame, weights: Mapping[str, float]) -> tuple[float, dict]:
    """CRM quality score (0-100) and the per-dimension values S_d over the CRM checks."""
    crm = checks[checks["crm"].astype(bool)]
    parts = {}
    for d in DIMENSIONS:
        sub = crm[crm["dimension"] == d]
        if len(sub):
            parts[d] = sub["passed"].sum() / sub["checked"].sum()
    total_w = sum(weights.get(d, 0.0) for d in parts)
    if not parts or total_w == 0:
        return float("nan"), parts
    return 100.0 * sum(weights.get(d, 0.0) * v for d, v in parts.items()) / total_w, parts


def check_weights(weights: Mapping[str, float]) -> None:
    """Raise ``ValueError`` unless ``weights`` maps dimensions to non-negative numbers."""
    unknown = sorted(set(weights) - set(DIMENSIONS))
    if unknown or any(w < 0 for w in weights.values()):
        raise ValueError(f"crm_quality_score: weights must map {DIMENSIONS} to non-negative numbers, "
                         f"got {dict(weights)!r}")


def score_frame(checks: pd.DataFrame, weights) -> pd.DataFrame:
    """One row: the score, the number of CRM checks and S_d per dimension."""
    score, parts = weighted_score(checks, weights)
    row = {"value": score, "checks": int(checks["crm"].astype(bool).sum())}
    row.update({d: parts.get(d, np.nan) for d in DIMENSIONS})
    return pd.DataFrame([row])


def summary_frame(checks: pd.DataFrame, weights) -> pd.DataFrame:
    """One row per dimension: value over all tables and over the CRM checks, weight, contribution."""
    _, parts = weighted_score(checks, weights)
    total_w = sum(weights.get(d, 0.0) for d in parts) or np.nan
    rows = []
    for d in DIMENSIONS:
        sub = checks[checks["dimension"] == d]
        rows.append({"dimension": d, "checks": len(sub), "failed_rows": int(sub["failed"].sum()),
                     "all_tables": sub["passed"].sum() / sub["checked"].sum() if len(sub) else np.nan,
                     "crm": parts.get(d, np.nan), "weight": weights.get(d, 0.0),
                     "contribution": 100 * weights.get(d, 0.0) * parts[d] / total_w if d in parts else np.nan})
    return pd.DataFrame(rows)


def scorecard_frame(checks: pd.DataFrame) -> pd.DataFrame:
    """Pass rate by table (rows) and dimension (columns), plus ``failed_rows``."""
    if checks.empty:
        return pd.DataFrame(columns=["table", *DIMENSIONS, "failed_rows"])
    g = checks.groupby(["table", "dimension"]).agg(passed=("passed", "sum"), checked=("checked", "sum"))
    wide = (g["passed"] / g["checked"]).unstack("dimension").reindex(columns=list(DIMENSIONS))
    order = [t for t in TABLES if t in wide.index]
    wide = wide.reindex(order)
    wide["failed_rows"] = checks.groupby("table")["failed"].sum().reindex(order).astype(int)
    wide.columns.name = None
    return wide.reset_index()


def trend_rows(p: Period, checks: pd.DataFrame, weights) -> list[dict]:
    """Rows of the trend frame for one period: each dimension and the score ÷ 100."""
    rows = []
    for d in DIMENSIONS:
        sub = checks[checks["dimension"] == d]
        num, den = float(sub["passed"].sum()), float(sub["checked"].sum())
        rows.append({"period": str(p), "dimension": d, "numerator": num, "denominator": den,
                     "value": num / den if den else np.nan})
    score, _ = weighted_score(checks, weights)
    rows.append({"period": str(p), "dimension": "crm_quality_score", "numerator": np.nan,
                 "denominator": np.nan, "value": score / 100})
    return rows


def worst_frame(checks: pd.DataFrame, n: int) -> pd.DataFrame:
    """The ``n`` failing checks with the lowest pass rate (ties: most failures first)."""
    bad = checks[checks["failed"] > 0]
    bad = bad.sort_values(["value", "failed", "check"], ascending=[True, False, True], kind="stable")
    return bad.head(n)[["check", "dimension", "description", "checked", "failed", "value"]].reset_index(drop=True)


def offenders_frame(run: QualityRun, by: str, n: int) -> pd.DataFrame:
    """Failures per value of ``by`` over every check whose rows carry a ``by`` column."""
    parts = []
    for check, out in run.results:
        if by not in out.rows.columns or not out.failed.any():
            continue
        rows = out.rows.loc[out.failed.to_numpy()]
        table = check.table if out.table_rows else check.id
        parts.append(pd.DataFrame({by: rows[by].astype(object).where(rows[by].notna(), "(missing)").to_numpy(),
                                   "check": check.id,
                                   "record": [f"{table}:{k}" for k in rows.index]}))
    if not parts:
        return pd.DataFrame(columns=[by, "failures", "records", "checks", "worst_check"])
    long = pd.concat(parts, ignore_index=True)
    g = long.groupby(by).agg(failures=("check", "size"), records=("record", "nunique"),
                             checks=("check", "nunique"))
    worst = long.groupby([by, "check"]).size().reset_index(name="k").sort_values(
        [by, "k", "check"], ascending=[True, False, True]).drop_duplicates(by).set_index(by)["check"]
    g["worst_check"] = worst
    return g.sort_values(["failures", "records"], ascending=False, kind="stable").head(n).reset_index()


def costs_frame(run: QualityRun) -> pd.DataFrame:
    """What the failures cost: annual money or records behind each failing check (see ``dq_costs``)."""
    ctx = run.ctx
    mrr_end = mrr_at_end(ctx)
    rows = []

    def add(check_id, what, value_fn, unit="currency"):
        if check_id not in run.by_id:
            return
        _, out = run.by_id[check_id]
        failing = with_detail(out.rows.loc[out.failed.to_numpy()], out.detail)
        rows.append({"check": check_id, "what": what, "failed": len(failing),
                     "cost": float(value_fn(failing)) if len(failing) else 0.0, "unit": unit})

    add("subscriptions.customer_id:paying_customer_in_crm",
        "ARR of paying customers missing from the CRM",
        lambda f: 12 * f["mrr_period_end"].sum())
    add("opportunities.customer_id:won_deal_has_subscription",
        "bookings of won new-business deals without a matching subscription",
        lambda f: reporting_amount(ctx, f, "amount", "close_date", "opportunities").sum())
    add("opportunities.amount:won_deal_matches_billing",
        "ARR disagreement between CRM amount and 12 × first MRR",
        lambda f: f["difference"].abs().sum())
    add("opportunities.close_date:not_stale", "open pipeline past its close date",
        lambda f: reporting_amount(ctx, f.assign(_d=ctx.p.last_month), "amount", "_d", "opportunities").sum())
    add("opportunities.amount:not_blank", "open or recent opportunities without an amount",
        lambda f: len(f), unit="count")
    add("customers.name:likely_duplicate", "ARR on likely-duplicate accounts",
        lambda f: 12 * f["customer_id"].map(mrr_end).fillna(0).sum())
    add("customers.industry:not_blank", "ARR of customers without an industry (segmentation blind spot)",
        lambda f: 12 * f["customer_id"].map(mrr_end).fillna(0).sum())
    add("leads.channel:not_blank", "leads that no channel can be credited for (CAC by channel)",
        lambda f: len(f), unit="count")
    return pd.DataFrame(rows, columns=["check", "what", "failed", "cost", "unit"])


def aggregate_checks(checks: pd.DataFrame, level: str) -> pd.DataFrame:
    """The checks' pass rates summed per column, per table or for the dataset (``level``)."""
    keys = {"column": ["table", "column"], "table": ["table"], "dataset": []}
    if level not in keys:
        raise ValueError(f"level must be 'column', 'table' or 'dataset', got {level!r}")
    by = keys[level]
    if checks.empty:
        cols = by + ["checks", "numerator", "denominator", "failed", "value"]
        return pd.DataFrame(columns=cols)
    if by:
        g = checks.groupby(by, sort=True).agg(checks=("check", "count"), numerator=("passed", "sum"),
                                              denominator=("checked", "sum"), failed=("failed", "sum"))
        g = g.reset_index()
    else:
        g = pd.DataFrame({"checks": [len(checks)], "numerator": [checks["passed"].sum()],
                          "denominator": [checks["checked"].sum()], "failed": [checks["failed"].sum()]})
    g[["numerator", "denominator", "failed"]] = g[["numerator", "denominator", "failed"]].astype("float64")
    g["value"] = g["numerator"] / g["denominator"]
    return g
