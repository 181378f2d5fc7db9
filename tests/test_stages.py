"""The one open/won/lost rule (stages.py) and the cached opportunity timeline (timeline.py)."""

from __future__ import annotations

import pandas as pd

import revops_kit as rk
from revops_kit.stages import LOST, OPEN, WON, is_closed_name, name_outcome, stage_outcome
from revops_kit.timeline import TIMELINE_COLUMNS, cached_timeline, opportunity_timeline, state_at


def test_rule_order_map_then_flags_then_learned_then_name():
    f = pd.DataFrame({"stage": ["Closed Won", "Closed Lost", "Demo", "Signed", "Signed", "Parked"],
                      "is_closed": [None, None, None, True, None, None],
                      "is_won": [None, None, None, True, None, None]})
    # flags decide row 3; the learned map (from flags) names "Signed" won for row 4
    out = stage_outcome(f, known={"Signed": WON})
    assert out.tolist() == [WON, LOST, OPEN, WON, WON, OPEN]
    # an explicit map beats everything
    assert stage_outcome(f, stage_map={"Parked": "lost", "Demo": "open", "Signed": "open"}).tolist()[-3:] == \
        [OPEN, OPEN, LOST]


def test_names_alone_and_every_user_of_the_rule_agrees():
    names = ["Prospecting", "Closed Won", "won", "Closed Lost", "Closed - no decision", "Lost", None]
    expect = [OPEN, WON, WON, LOST, LOST, LOST, OPEN]
    assert name_outcome(names).tolist() == expect
    assert is_closed_name(names).tolist() == [e != OPEN for e in expect]
    # crm mapping uses the same rule
    inferred = rk.infer_stage_map([n for n in names if n])
    assert all(inferred[n] == e for n, e in zip(names, expect) if n)
    assert rk.pipeline.stage_outcome is stage_outcome


def test_cached_timeline_is_built_once_and_equals_a_fresh_build(sample):
    opps, hist = sample.opportunities, sample.opportunity_history
    a = cached_timeline(opps, hist, fx_rates=sample.fx_rates)
    assert cached_timeline(opps, hist, fx_rates=sample.fx_rates) is a
    pd.testing.assert_frame_equal(a, opportunity_timeline(opps, hist, fx_rates=sample.fx_rates))
    assert tuple(a.columns) == TIMELINE_COLUMNS
    # another history object is another timeline
    assert cached_timeline(opps, hist.copy(), fx_rates=sample.fx_rates) is not a
    snap = state_at(a, "2025-10-01")
    assert snap["opportunity_id"].is_unique and (snap["at"] < pd.Timestamp("2025-10-01")).all()


def test_no_cache_parameters_in_public_signatures():
    import inspect

    import revops_kit.forecast as fc

    for mod in (rk.pipeline, rk.marketing, fc.submitted, fc.revenue_forecast, fc.pipeline_forecast):
        for name in getattr(mod, "__all__", []):
            obj = getattr(mod, name)
            if callable(obj) and not isinstance(obj, type):
                params = inspect.signature(obj).parameters
                assert "timeline" not in params and "dates" not in params, f"{mod.__name__}.{name}"
