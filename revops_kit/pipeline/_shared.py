"""The opportunity outcomes cached per dataset and FX policy, and the catalogue bindings shared by
the pipeline modules (private to :mod:`revops_kit.pipeline`)."""

from __future__ import annotations

from .._common import frame_cache
from ..policies import get_policy
from ._frames import _bind_by, _bind_types, _groups, _of_types
from .outcomes import BOOKING_TYPES, SALES_TYPES, opportunity_outcomes


# catalogue bindings: ``by`` checked against opportunities/customers; grouping by type uses every type
_BY = {"by": _bind_by()}
_BY_STAGE = {"by": _bind_by(("stage",))}
_SALES = {"by": _bind_by(), "types": _bind_types(SALES_TYPES)}
_BOOKING = {"by": _bind_by(), "types": _bind_types(BOOKING_TYPES)}


def _outcomes(opportunities, *, history, fx_rates, policy):
    """:func:`opportunity_outcomes`, built once per dataset frames and FX policy (trends ask for
    many periods); shared, so read-only."""
    policy = get_policy(policy)
    key = (policy.reporting_currency, policy.fx_mode, policy.fx_fixed_month)
    return frame_cache("opportunity_outcomes", (opportunities, history, fx_rates), key,
                       lambda: opportunity_outcomes(opportunities, history=history, fx_rates=fx_rates,
                                                    policy=policy))


def _outcomes_grouped(opportunities, *, history, customers, by, fx_rates, policy,
                      types=None):
    out = _outcomes(opportunities, history=history, fx_rates=fx_rates, policy=policy)
    return _groups(_of_types(out, types), by, customers)
