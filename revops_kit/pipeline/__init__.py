"""Pipeline and sales KPIs: pipeline value and evolution, stages, win rate, cycle, velocity, quota.

What counts as open, won, lost and when
---------------------------------------
* **Outcome** of an opportunity row: ``won`` when ``is_won`` is true, ``lost`` when ``is_closed``
  is true and ``is_won`` false, ``open`` when ``is_closed`` is false. Where a flag is missing the
  stage name decides: a stage whose name contains "won" is won, one containing "lost" or "closed"
  is lost, any other stage is open (see :func:`stage_outcome`; pass ``stage_map`` to override).
* **Timeline** (:func:`opportunity_timeline`): the states an opportunity went through, from
  ``opportunity_history`` (one state per history row, amounts and close dates carried forward when
  a row leaves them empty). An opportunity without history has an open state at ``created_at``
  and, when closed, a closed state at its ``close_date``.
* **Point in time**: the state "at" a date ``t`` is the last state dated before ``t`` — the same
  half-open convention as periods, so the pipeline at a period's end (``t = period.end``) includes
  every change made on the period's last day. An opportunity exists at ``t`` when it was created
  before ``t``. **Open at t** = exists at ``t`` and its state at ``t`` is open.
* **Won / lost in a period**: the *current* outcome (the opportunities table), attributed to the
  period containing its ``close_date``; a closed deal without a close date is placed on the date
  its history recorded the close, and counted in ``n_close_date_from_history``; with neither it is
  counted in ``n_unplaced`` and can't be placed in any period. A deal that was won and later reopened is
  open now: it counts in no period's wins, and in the pipeline (and in
  :func:`pipeline_evolution` as won, then reopened) from its history.
* **Amounts** are converted to the reporting currency at the rate of the month of the deal's
  close date (created date when it has none), clamped to the months ``fx_rates`` covers, and rounded
  to cents. A **won** deal is worth its current amount; a **lost** deal is worth the amount of its
  last open state (so CRMs that set the amount of lost deals to 0 don't make losses look free).
  A missing amount counts as 0 in sums, and the count of such deals is reported
  (``n_missing_amount``); deals are never dropped silently.
* **Open deals never count in win rate**; missing close dates and amounts are flagged in every
  output that could be affected.

Opportunity types: win rate, deal size, cycle, velocity and opportunity ratio use new-business
deals (:data:`SALES_TYPES`); bookings, quota attainment and coverage use new business +
expansion (:data:`BOOKING_TYPES`); pipeline value, pipeline created, stages and the evolution use
every type. Each function takes ``types=`` (``None`` = all); without a ``type`` column every deal
counts.

Grouping (``by=``) works on any column of ``opportunities`` (owner, team, source, type, product,
stage) and on customer columns (segment, region, ...) looked up through ``customer_id``; deals
without a value are grouped under ``"(missing)"``. Owner, team and the other attributes are the
current ones (the history holds no owner changes).

Modules (one per KPI family): :mod:`~revops_kit.pipeline.outcomes` (snapshot, outcomes, the types
each family counts), :mod:`~revops_kit.pipeline.value` (pipeline value and created),
:mod:`~revops_kit.pipeline.evolution`, :mod:`~revops_kit.pipeline.stages` (by stage, conversion,
time in stage), :mod:`~revops_kit.pipeline.win_loss` (win rate, opportunity ratio),
:mod:`~revops_kit.pipeline.deals` (deal size, sales cycle), :mod:`~revops_kit.pipeline.velocity`,
:mod:`~revops_kit.pipeline.booking` (bookings), :mod:`~revops_kit.pipeline.quota` (quota,
attainment), :mod:`~revops_kit.pipeline.coverage`, :mod:`~revops_kit.pipeline.trend`. Every name
is importable from ``revops_kit.pipeline`` itself.
"""

from __future__ import annotations

from ..stages import LOST, OPEN, WON, stage_outcome
from ..timeline import opportunity_timeline
# imported in the catalogue's registration order
from .outcomes import BOOKING_TYPES, SALES_TYPES, opportunity_outcomes, pipeline_snapshot
from .value import pipeline_created, pipeline_value
from .booking import bookings
from .win_loss import opportunity_ratio, win_rate
from .deals import average_deal_size, sales_cycle_days
from .velocity import pipeline_velocity
from .quota import quota_attainment, quota_for_period
from .stages import opportunities_by_stage, stage_conversion_rate, stage_order, stage_stints, time_in_stage
from .coverage import pipeline_coverage
from .evolution import EVOLUTION_STEPS, pipeline_evolution, pipeline_evolution_detail
from .trend import sales_trend

__all__ = [
    "OPEN",
    "WON",
    "LOST",
    "EVOLUTION_STEPS",
    "stage_outcome",
    "opportunity_timeline",
    "pipeline_snapshot",
    "opportunity_outcomes",
    "pipeline_evolution",
    "pipeline_evolution_detail",
    "stage_order",
    "stage_stints",
    "pipeline_value",
    "pipeline_created",
    "pipeline_coverage",
    "opportunities_by_stage",
    "stage_conversion_rate",
    "time_in_stage",
    "win_rate",
    "average_deal_size",
    "sales_cycle_days",
    "pipeline_velocity",
    "bookings",
    "quota_for_period",
    "quota_attainment",
    "opportunity_ratio",
    "sales_trend",
    "SALES_TYPES",
    "BOOKING_TYPES",
]
