"""The one state object the simulation steps pass along.

:class:`SampleState` holds the random generator, the calendar and the result of every step that
ran so far. Each step is a function ``step(state) -> result`` in its own module that reads only
what earlier steps produced and returns its own typed result; :func:`revops_kit.sample.generate`
stores it on the state. The order of the steps is the order of the random draws, so it is fixed
(see ``generate``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .calendar import Calendar

if TYPE_CHECKING:  # the step modules import this one; annotations only
    from .billing import Billing
    from .crm import Crm
    from .customers import Customers
    from .finance import Costs, FxRates
    from .leads import Leads
    from .plans import SalesPlans
    from .success import Success

__all__ = ["SampleState"]


@dataclass
class SampleState:
    """Everything the simulation has produced so far (``None`` until its step ran)."""

    rng: np.random.Generator
    cal: Calendar
    n: int
    fx: FxRates | None = None
    customers: Customers | None = None
    billing: Billing | None = None
    crm: Crm | None = None
    leads: Leads | None = None
    success: Success | None = None
    invoices: pd.DataFrame | None = None  # day-number invoices (billing.draw_invoices)
    costs: Costs | None = None
    plans: SalesPlans | None = None
