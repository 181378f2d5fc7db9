"""Marketing and acquisition KPIs: lead funnel, trial conversion, CAC, CPA, ROI, payback, LTV:CAC.

Definitions
-----------
* **Acquisition costs** (``CAC_CATEGORIES``): the ``costs`` rows of categories
  marketing_programs, marketing_payroll, sales_payroll, tools_infrastructure and external_services
  whose ``month`` is in the period, converted to the reporting currency at the month's rate.
  A row with a ``channel`` is that channel's *direct* cost; a row without one is *shared*.
* **New customers** and their MRR come from ``rk.arpa`` (revenue module): customers whose first
  active month is in the period, with the MRR of that month (``new_mrr``). Their channel is
  ``customers.acquisition_channel`` (``"(missing)"`` when blank).
* **Shared-cost allocation** to channels (``policy.cac_allocation``): ``"spend_share"`` (default)
  splits each period's shared costs in proportion to the channels' direct spend, so channels
  without direct spend (e.g. a "(missing)" channel) carry none; ``"new_customers"`` splits them in
  proportion to each channel's new customers. Either way the channel costs add up to the total.
* **Lead funnel** steps: lead (``created_at``) → MQL (``mql_at``) → SQL (``sql_at``) →
  opportunity (``created_at`` of the lead's ``opportunity_id``) → won (that opportunity's close
  date when it is won; without an opportunities table, ``converted_at``). A lead that reached a
  later step passed the earlier ones, even where their date is missing (the missing date is then
  taken as the next known step's date for period counts, and left out of durations).

Modules: :mod:`~revops_kit.marketing.costs` (acquisition costs, new customers, spend by month),
:mod:`~revops_kit.marketing.acquisition` (CAC, CAC by channel, CPA, payback, ROI, LTV:CAC),
:mod:`~revops_kit.marketing.leads` (lead volume, cost per lead), :mod:`~revops_kit.marketing.funnel`
(lead funnel and its conversions), :mod:`~revops_kit.marketing.trial` (trial → paid),
:mod:`~revops_kit.marketing.channels` (acquisition by channel). Every name is importable from
``revops_kit.marketing`` itself.
"""

from __future__ import annotations

# imported in the catalogue's registration order
from .costs import (CAC_CATEGORIES, MARKETING_CATEGORIES, acquisition_costs, new_customers,
                    spend_by_month)
from .acquisition import cac, cac_by_channel, cac_payback_months, cpa, ltv_to_cac, marketing_roi
from .leads import cost_per_lead, lead_volume
from .funnel import FUNNEL_STEPS, funnel_conversion, funnel_dates, lead_funnel
from .trial import trial_to_paid
from .channels import acquisition_by_channel

__all__ = [
    "CAC_CATEGORIES",
    "MARKETING_CATEGORIES",
    "FUNNEL_STEPS",
    "acquisition_costs",
    "new_customers",
    "cac",
    "cac_by_channel",
    "cpa",
    "marketing_roi",
    "cac_payback_months",
    "ltv_to_cac",
    "lead_volume",
    "cost_per_lead",
    "funnel_dates",
    "lead_funnel",
    "funnel_conversion",
    "trial_to_paid",
    "acquisition_by_channel",
    "spend_by_month",
]
