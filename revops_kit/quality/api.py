"""The public data-quality functions (``rk.dq_checks``, ``rk.crm_quality_score``, ...)."""

from __future__ import annotations

from typing import Iterable, Mapping

import pandas as pd

from ..periods import PeriodLike, as_period
from ..policies import DEFAULT_POLICY, MetricPolicy, get_policy
from .checks import checks_for
from .config import DEFAULT_QUALITY, DIMENSIONS, DQ_WEIGHTS, QualityConfig
from .run import checks_frame, outcome_memo, examples_frame, failing_rows_of, run_checks, unknown_check_error
from .scoring import (
    aggregate_checks, check_weights, costs_frame, offenders_frame, score_frame, scorecard_frame,
    summary_frame, trend_rows, worst_frame,
)

__all__ = [
    "dq_checks", "dq_failing_rows", "dq_examples", "check_dimension", "dq_completeness",
    "dq_validity", "dq_consistency", "dq_uniqueness", "dq_integrity", "dq_timeliness",
    "crm_quality_score", "dq_summary", "dq_scorecard", "dq_trend", "dq_worst_checks",
    "dq_offenders", "dq_costs",
]


def dq_checks(data, period: PeriodLike, *, dimensions: Iterable[str] = DIMENSIONS,
              config: QualityConfig = DEFAULT_QUALITY,
              policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """Every data-quality check that applies to ``data`` in ``period``, with its pass rate.

    value = passed ÷ checked, where ``checked`` is the number of rows (cells for completeness,
    one unit per table for freshness) in the check's scope (see the module docstring). Checks with
    nothing in scope are left out.

    Parameters
    ----------
    data : RevOpsData
    period : Period or str
    dimensions : iterable of str
        Subset of :data:`DIMENSIONS`.
    config : QualityConfig
        Thresholds (window days, amount tolerance, inactivity and freshness days).
    policy : MetricPolicy
        Reads ``reporting_currency``, ``fx_mode`` and ``fx_fixed_month`` (CRM ↔ billing amounts).

    Returns
    -------
    DataFrame
        Columns ``check, dimension, table, column, description, crm, checked, failed, passed,
        value``; ``check`` is the id to pass to :func:`dq_failing_rows`.
    """
    return checks_frame(data, period, config, policy, dimensions)


def dq_failing_rows(data, period: PeriodLike, check: str, *, config: QualityConfig = DEFAULT_QUALITY,
                    policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """The rows that fail ``check`` in ``period``.

    Returns the failing rows with their table's columns (or the derived columns of the check, e.g.
    ``customer_id, name, mrr_period_end`` for ``paying_customer_in_crm``), preceded by ``row`` —
    the 1-based data row in the table, as in schema messages, where the row is a table row — and
    followed by the check's explanation columns (``reason``, ``duplicate_of``, ``days_past_close``
    ...). Raises :class:`UnknownCheckError` naming close matches when ``check`` does not apply.

    Examples
    --------
    >>> import revops_kit as rk
    >>> rows = dq_failing_rows(rk.load_sample(), "2025-Q4", "customers.name:likely_duplicate")
    >>> {"customer_id", "duplicate_of", "matched_on"} <= set(rows.columns)
    True
    """
    checks = {c.id: c for c in checks_for(data)}
    if check not in checks:
        raise unknown_check_error(data, check)
    out = outcome_memo(data, as_period(period), config, get_policy(policy)).outcome(checks[check])
    if out is None:
        return pd.DataFrame()
    return failing_rows_of(checks[check], out)


def dq_examples(data, period: PeriodLike, check: str, *, columns: Iterable[str] | None = None,
                n: int = 20, sort_by: str | None = None, ascending: bool = False,
                config: QualityConfig = DEFAULT_QUALITY, policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """Up to ``n`` failing rows of ``check`` for display: the ``columns`` that exist (all when
    ``None``), sorted by ``sort_by`` when given. A check that does not apply to the dataset gives
    one row with a ``note`` saying so instead of raising.
    """
    dimension = check_dimension(data, check)
    run = run_checks(data, period, config, policy, [dimension] if dimension else ())
    return examples_frame(run, data, check, columns, n, sort_by, ascending)


def check_dimension(data, check: str) -> str | None:
    """The dimension of check ``check`` (``None`` when it does not apply to ``data``)."""
    return next((c.dimension for c in checks_for(data) if c.id == check), None)


def _dimension_frame(dimension, data, period, level, config, policy) -> pd.DataFrame:
    checks = dq_checks(data, period, dimensions=[dimension], config=config, policy=policy)
    return aggregate_checks(checks, level)


_DIM_PARAMS = """
    Parameters
    ----------
    data : RevOpsData
    period : Period or str
    level : {"column", "table", "dataset"}
        One row per table and column (default), per table, or one row for the dataset.
    config : QualityConfig
        Thresholds of the checks.
    policy : MetricPolicy
        Reads the reporting-currency fields only (CRM ↔ billing amounts).

    Returns
    -------
    DataFrame
        ``table`` and ``column`` (by level), ``checks``, ``numerator`` (passed), ``denominator``
        (checked), ``failed`` and ``value`` (a fraction).
"""


def dq_completeness(data, period: PeriodLike, *, level: str = "column",
                    config: QualityConfig = DEFAULT_QUALITY, policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    return _dimension_frame("completeness", data, period, level, config, policy)


def dq_validity(data, period: PeriodLike, *, level: str = "column",
                config: QualityConfig = DEFAULT_QUALITY, policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    return _dimension_frame("validity", data, period, level, config, policy)


def dq_consistency(data, period: PeriodLike, *, level: str = "column",
                   config: QualityConfig = DEFAULT_QUALITY, policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    return _dimension_frame("consistency", data, period, level, config, policy)


def dq_uniqueness(data, period: PeriodLike, *, level: str = "column",
                  config: QualityConfig = DEFAULT_QUALITY, policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    return _dimension_frame("uniqueness", data, period, level, config, policy)


def dq_integrity(data, period: PeriodLike, *, level: str = "column",
                 config: QualityConfig = DEFAULT_QUALITY, policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    return _dimension_frame("integrity", data, period, level, config, policy)


def dq_timeliness(data, period: PeriodLike, *, level: str = "column",
                  config: QualityConfig = DEFAULT_QUALITY, policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    return _dimension_frame("timeliness", data, period, level, config, policy)


dq_completeness.__doc__ = """Data completeness: share of expected cells that are filled.

    value = Σ filled ÷ Σ expected cells, over the rows in scope of the period and the columns that
    should be filled (customers: name, domain, segment, region, country, industry, acquisition
    channel, owner, created_at; opportunities: customer_id, amount, close_date, owner, type,
    source, probability, forecast_category; leads: channel; ...; only columns the table has).
""" + _DIM_PARAMS


dq_validity.__doc__ = """Data validity: share of present values inside their domain.

    value = Σ valid ÷ Σ checked values: the schema's allowed values and bounds, ISO 4217 codes,
    period labels, dates in order (end after start, paid after issued, MQL after created ...),
    well-formed web domains, won amounts > 0.
""" + _DIM_PARAMS


dq_consistency.__doc__ = """Data consistency: share of rows whose facts agree.

    value = Σ consistent ÷ Σ checked rows: stage name vs is_won/is_closed, probability and
    forecast category vs outcome, latest history stage vs current stage, non-overlapping periods
    of a product line, and the CRM ↔ billing checks (won new-business deal has a subscription
    starting within ``config.window_days`` of its close date; its amount is within
    ``config.tolerance`` of 12 × first MRR; every paying customer has an account and an opportunity).
""" + _DIM_PARAMS


dq_uniqueness.__doc__ = """Data uniqueness: share of rows that are not duplicates.

    value = Σ unique ÷ Σ checked rows: duplicated keys of every table, and likely-duplicate
    accounts (same normalised name or web domain as an older account, see
    :func:`likely_duplicate_accounts`).
""" + _DIM_PARAMS


dq_integrity.__doc__ = """Data integrity: share of references that resolve.

    value = Σ resolved ÷ Σ checked references: ids that must exist in their parent table (the
    schema's ``*_exists`` checks), won opportunities linked to an account, opportunities with
    stage history, converted leads linked to a customer.
""" + _DIM_PARAMS


dq_timeliness.__doc__ = """Data timeliness: share of records that are up to date at the period end.

    value = Σ timely ÷ Σ checked: open opportunities at the period end whose close date has not
    passed and that changed within ``config.inactivity_days``, and tables whose newest row is at
    most ``config.freshness_days`` old at the period end (one unit per table).
""" + _DIM_PARAMS


def crm_quality_score(data, period: PeriodLike, *, weights: Mapping[str, float] = DQ_WEIGHTS,
                      config: QualityConfig = DEFAULT_QUALITY,
                      policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """CRM quality score, 0–100.

    score = 100 × Σ_d w_d · S_d ÷ Σ_d w_d over the dimensions with at least one CRM check, where
    S_d = Σ passed ÷ Σ checked over the CRM checks of dimension d (checks on customers,
    opportunities, opportunity_history and leads, plus the CRM ↔ billing checks), and w_d are
    ``weights`` (default :data:`DQ_WEIGHTS`: completeness 0.25, consistency 0.25, validity 0.15,
    uniqueness 0.15, integrity 0.10, timeliness 0.10).

    Returns
    -------
    DataFrame
        One row: ``value`` (the score), ``checks`` (CRM checks run), and one column per dimension
        holding S_d (a fraction; NaN when the dimension has no CRM check).

    Examples
    --------
    >>> import revops_kit as rk
    >>> 0 <= crm_quality_score(rk.load_sample(), "2025-Q4")["value"].item() <= 100
    True
    """
    check_weights(weights)
    return score_frame(dq_checks(data, period, config=config, policy=policy), weights)


def dq_summary(data, period: PeriodLike, *, weights: Mapping[str, float] = DQ_WEIGHTS,
               config: QualityConfig = DEFAULT_QUALITY, policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """One row per dimension: its value over all tables and over the CRM checks, and its weight
    and contribution (in score points) to :func:`crm_quality_score`.

    Columns: ``dimension, checks, failed_rows, all_tables, crm, weight, contribution``. The
    contributions add up to the score.
    """
    check_weights(weights)
    return summary_frame(dq_checks(data, period, config=config, policy=policy), weights)


def dq_scorecard(data, period: PeriodLike, *, config: QualityConfig = DEFAULT_QUALITY,
                 policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """Pass rate by table (rows) and dimension (columns); NaN where no check applies.

    Each cell is Σ passed ÷ Σ checked over the dimension's checks on the table; the last column,
    ``failed_rows``, counts failures over all dimensions.
    """
    return scorecard_frame(dq_checks(data, period, config=config, policy=policy))


def dq_trend(data, periods: Iterable[PeriodLike], *, weights: Mapping[str, float] = DQ_WEIGHTS,
             config: QualityConfig = DEFAULT_QUALITY, policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """Dimension values and the CRM quality score for each period.

    Returns a long frame: ``period, dimension, numerator, denominator, value``; the dimension
    ``crm_quality_score`` holds the score divided by 100 (so every value is a fraction).
    """
    check_weights(weights)
    rows = []
    for period in periods:
        p = as_period(period)
        rows += trend_rows(p, dq_checks(data, p, config=config, policy=policy), weights)
    return pd.DataFrame(rows)


def dq_worst_checks(data, period: PeriodLike, *, n: int = 10, config: QualityConfig = DEFAULT_QUALITY,
                    policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """The ``n`` failing checks with the lowest pass rate (ties: most failures first)."""
    return worst_frame(dq_checks(data, period, config=config, policy=policy), n)


def dq_offenders(data, period: PeriodLike, *, by: str = "owner", n: int = 10,
                 config: QualityConfig = DEFAULT_QUALITY, policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """Who owns the failing rows: failures per value of ``by`` (e.g. the opportunity owner).

    Counts failing rows of every check whose rows carry a ``by`` column; ``records`` is the number
    of distinct failing records (a record failing two checks counts once there), ``checks`` the
    number of distinct checks they fail, ``worst_check`` the check with most failures.
    """
    return offenders_frame(run_checks(data, period, config, policy), by, n)


def dq_costs(data, period: PeriodLike, *, config: QualityConfig = DEFAULT_QUALITY,
             policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """What the failures cost: annual money (reporting currency) or records behind each failing check.

    Every amount is annual so that the rows compare: ARR = 12 × period-end MRR, and opportunity
    amounts are annual.

    ==========================================  ==================================================
    check                                       cost
    ==========================================  ==================================================
    paying_customer_in_crm                      ARR of paying customers the CRM lacks
    won_deal_has_subscription                   bookings (amount) of won deals billing never saw
    won_deal_matches_billing                    Σ |amount − 12 × first MRR| (ARR disagreement)
    opportunities.close_date:not_stale          amount of open pipeline past its close date
    opportunities.amount:not_blank              open opportunities without an amount (count)
    customers.name:likely_duplicate             ARR on duplicate accounts
    customers.industry:not_blank                ARR of customers without an industry
    leads.channel:not_blank                     leads no channel can be credited for (count)
    ==========================================  ==================================================

    Columns: ``check, what, failed, cost, unit`` (``currency`` or ``count``), only for checks
    that apply to the dataset.
    """
    return costs_frame(run_checks(data, period, config, policy))
