"""Data-quality KPIs: completeness, validity, consistency, uniqueness, integrity, timeliness,
and a CRM quality score.

Data quality is measured by **checks**. A check looks at the rows of one table that are *in scope*
for a period, and says which of them fail. Every check belongs to one dimension:

============  ===============================================================================
dimension     what fails
============  ===============================================================================
completeness  a column that should be filled is blank (one check per expected column)
validity      a value outside its domain: the schema's allowed values and bounds, ISO codes,
              period labels, dates in the wrong order, malformed web domains, won deals at 0
consistency   two facts that disagree: stage name vs won/closed flags, probability and forecast
              category vs outcome, the latest stage history vs the current stage, overlapping
              periods of one product line, and the **CRM ↔ billing** checks below
uniqueness    a duplicated key, or a *likely-duplicate account* (same normalised name or domain)
integrity     an orphan reference (the schema's cross-table ``*_exists`` checks), a won deal
              without an account, an opportunity without stage history, a converted lead
              without a customer
timeliness    an open opportunity whose close date had passed at the period end (stale; the
              close date recorded by then in the stage history), an open opportunity
              without any change for ``inactivity_days``, a table whose newest row is older than
              ``freshness_days`` at the period end
============  ===============================================================================

Cross-system (CRM ↔ billing) consistency checks:

* ``opportunities.customer_id:won_deal_has_subscription`` — every won new-business opportunity
  closed in the period has a subscription of the same customer starting within
  ``window_days`` (default 30) of its close date, before or after.
* ``opportunities.amount:won_deal_matches_billing`` — for those that have one, the opportunity
  amount (annual) matches 12 × the first MRR (the MRR of the customer's subscription rows starting
  on the first start date in the window) within ``tolerance`` (default 10 %) of the amount. Both
  sides are compared in the reporting currency when ``fx_rates`` can convert them.
* ``subscriptions.customer_id:paying_customer_in_crm`` — every customer paying (MRR > 0) in the
  period exists in the CRM: it has an account in ``customers`` **and**, when the dataset has
  ``opportunities``, at least one opportunity created before the period end. Self-serve customers
  who never talked to sales therefore fail: billing knows them, the CRM does not.

Likely-duplicate accounts: names are normalised (lowercase, accents and punctuation removed, legal
suffixes such as Inc, Ltd, LLC, GmbH, Corp, Co, SA, AG, PLC, BV dropped from the end) and domains
are normalised (lowercase, no scheme, ``www.`` or path; free-mail domains such as gmail.com are
ignored). Accounts sharing either key form a cluster; the oldest account of a cluster (by
``created_at``, then ``customer_id``) is the original and every other member fails.

Scope of a period ``[start, end)`` — which rows a check looks at:

* customers: accounts created before the period end (the account base at the end);
* subscriptions: rows overlapping the period;
* opportunities: opportunities open at some time in the period (created before the end and not
  closed before the start);
* quotas and targets: rows whose period label overlaps the period;
* every other table: rows whose date column (``schema.TABLES[t].date_column``) is in the period.

Rows whose date is missing are in scope of every period (so a blank date never hides a row).
Event-like checks have their own population, stated in their description (won deals closed in the
period, customers paying in the period, opportunities open at the period end).

A dimension's value for a table is ``passed ÷ checked`` summed over the dimension's checks on the
table (cells for completeness, rows otherwise; freshness counts one unit per table). Checks with
nothing in scope are left out. The CRM quality score is

    crm_quality_score = 100 × Σ_d w_d · S_d ÷ Σ_d w_d

over the dimensions ``d`` that have at least one CRM check, where ``S_d`` is the dimension's value
over the CRM checks — the checks on ``customers``, ``opportunities``, ``opportunity_history`` and
``leads`` plus the CRM ↔ billing checks — and the weights ``w_d`` are :data:`DQ_WEIGHTS`:
completeness 0.25, consistency 0.25, validity 0.15, uniqueness 0.15, integrity 0.10,
timeliness 0.10 (completeness and consistency weigh most because they decide whether pipeline and
bookings can be trusted at all).

Package layout: :mod:`.config` (dimensions, weights, thresholds), :mod:`.normalise` (names,
domains, likely duplicates), :mod:`.checks` (the check registry), :mod:`.context` (scopes and
shared frames), one module per dimension registering its checks (:mod:`.completeness`,
:mod:`.validity`, :mod:`.consistency`, :mod:`.accuracy` for CRM ↔ billing, :mod:`.uniqueness`,
:mod:`.integrity`, :mod:`.timeliness`), :mod:`.run` (one run of the checks), :mod:`.scoring`
(score, summaries, costs), :mod:`.api` (the public functions) and :mod:`.kpis` (catalogue entries).
"""

from __future__ import annotations

# the dimension modules register their checks on import, in this order (the order of dq_checks)
from . import completeness, validity, consistency, accuracy, uniqueness, integrity, timeliness  # noqa: F401
from . import kpis  # noqa: F401  (catalogue entries)
from .api import (
    check_dimension, crm_quality_score, dq_checks, dq_completeness, dq_consistency, dq_costs,
    dq_examples, dq_failing_rows, dq_integrity, dq_offenders, dq_scorecard, dq_summary,
    dq_timeliness, dq_trend, dq_uniqueness, dq_validity, dq_worst_checks,
)
from .config import (
    CRM_TABLES, DEFAULT_QUALITY, DIMENSIONS, DQ_WEIGHTS, QualityConfig, UnknownCheckError,
)
from .normalise import likely_duplicate_accounts, normalize_company_name, normalize_domain

__all__ = [
    "DIMENSIONS",
    "DQ_WEIGHTS",
    "CRM_TABLES",
    "QualityConfig",
    "DEFAULT_QUALITY",
    "UnknownCheckError",
    "normalize_company_name",
    "normalize_domain",
    "likely_duplicate_accounts",
    "dq_checks",
    "dq_failing_rows",
    "dq_examples",
    "dq_completeness",
    "dq_validity",
    "dq_consistency",
    "dq_uniqueness",
    "dq_integrity",
    "dq_timeliness",
    "crm_quality_score",
    "dq_summary",
    "dq_scorecard",
    "dq_trend",
    "dq_worst_checks",
    "dq_offenders",
    "dq_costs",
    "check_dimension",
]
