"""Consistency checks: two facts of the CRM or of billing that disagree.

Stage name vs won/closed flags, probability and forecast category vs outcome, the latest stage
history vs the current stage, overlapping periods of one product line. The CRM ↔ billing checks
(also of the consistency dimension) are in :mod:`.accuracy`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..stages import LOST, WON, name_outcome
from .checks import Check, Outcome, register_checks
from .context import bool_column, closed_flag, isin_known, scope_mask, won_flag

__all__ = []


@register_checks("consistency")
def _consistency_checks(data) -> list[Check]:
    checks = []
    opps = data.opportunities
    if opps is not None:
        if {"is_won", "is_closed"} <= set(opps.columns):
            def run_won_closed(ctx):
                rows = ctx.scope("opportunities")
                won = bool_column(rows, "is_won").fillna(False).astype(bool)
                rows = rows.loc[won]
                return Outcome(rows, ~bool_column(rows, "is_closed").fillna(False).astype(bool))

            checks.append(Check("opportunities.is_won:won_implies_closed", "consistency", "opportunities",
                                "is_won", "a won opportunity is closed", run_won_closed, True))
        if "is_won" in opps.columns or "is_closed" in opps.columns:
            def run_stage(ctx):
                rows = ctx.scope("opportunities")
                stage = rows["stage"].astype("string")
                said = pd.Series(name_outcome(stage.to_numpy(dtype=object)), index=rows.index)
                says_won, says_lost = said.eq(WON), said.eq(LOST)
                won, closed = bool_column(rows, "is_won"), bool_column(rows, "is_closed")
                bad = pd.Series(False, index=rows.index)
                bad |= says_won & (won.eq(False).fillna(False) | closed.eq(False).fillna(False)).astype(bool)
                bad |= says_lost & (won.eq(True).fillna(False) | closed.eq(False).fillna(False)).astype(bool)
                bad |= ~says_won & ~says_lost & won.eq(True).fillna(False).astype(bool)
                mask = says_won | says_lost | won.eq(True).fillna(False).astype(bool)
                return Outcome(rows.loc[mask], bad.loc[mask])

            checks.append(Check("opportunities.stage:matches_outcome", "consistency", "opportunities", "stage",
                                "the stage name agrees with is_won / is_closed (…Won ⇔ won, …Lost or Closed … ⇒ lost)",
                                run_stage, True))
        if "probability" in opps.columns:
            def run_prob(ctx):
                rows = ctx.scope("opportunities")
                closed = closed_flag(rows)
                rows = rows.loc[closed & rows["probability"].notna()]
                won = won_flag(rows)
                expected = np.where(won, 1.0, 0.0)
                return Outcome(rows, (rows["probability"] - expected).abs() > 1e-9)

            checks.append(Check("opportunities.probability:matches_outcome", "consistency", "opportunities",
                                "probability", "a closed won deal has probability 1 and a lost one 0",
                                run_prob, True))
        if "forecast_category" in opps.columns:
            def run_fc(ctx):
                rows = ctx.scope("opportunities")
                rows = rows.loc[rows["forecast_category"].notna()]
                closed, won = closed_flag(rows), won_flag(rows)
                fc = rows["forecast_category"].astype("string")
                bad = (won & (fc != "closed")) | (closed & ~won & (fc != "omitted")) | (~closed & (fc == "closed"))
                return Outcome(rows, bad.fillna(False).astype(bool))

            checks.append(Check("opportunities.forecast_category:matches_outcome", "consistency",
                                "opportunities", "forecast_category",
                                "won ⇒ closed, lost ⇒ omitted, open ⇒ not closed", run_fc, True))
    hist = data.opportunity_history
    if opps is not None and hist is not None:
        def run_hist(ctx):
            rows = ctx.scope("opportunities")
            h = ctx.table("opportunity_history")
            h = h.loc[isin_known(h["opportunity_id"], rows["opportunity_id"])]
            h = h.loc[h["changed_at"].isna() | (h["changed_at"] < ctx.p.end)]
            order = h.assign(_pos=np.arange(len(h))).sort_values(["opportunity_id", "changed_at", "_pos"],
                                                                 na_position="first", kind="stable")
            last = order.drop_duplicates("opportunity_id", keep="last").drop(columns="_pos")
            current = rows.set_index("opportunity_id")["stage"]
            # an opportunity that changed after the period end may legitimately differ: compare only
            # opportunities whose latest change of all is before the end
            latest_all = ctx.table("opportunity_history").groupby("opportunity_id")["changed_at"].max()
            last = last.loc[(latest_all.reindex(last["opportunity_id"]).to_numpy() < ctx.p.end)
                            | latest_all.reindex(last["opportunity_id"]).isna().to_numpy()]
            expected = last["opportunity_id"].map(current)
            detail = pd.DataFrame({"current_stage": expected}, index=last.index)
            return Outcome(last, (last["stage"] != expected).fillna(True).astype(bool), detail)

        checks.append(Check("opportunity_history.stage:matches_current", "consistency",
                            "opportunity_history", "stage",
                            "the latest stage in the history is the opportunity's current stage",
                            run_hist, True))
    subs = data.subscriptions
    if subs is not None and "product" in subs.columns:
        def run_overlap(ctx):
            s = ctx.table("subscriptions")
            s = s.loc[s["product"].notna() & s["start_date"].notna()]
            order = s.assign(_pos=np.arange(len(s))).sort_values(["customer_id", "product", "start_date", "_pos"],
                                                                 kind="stable")
            prev_end = order.groupby(["customer_id", "product"], sort=False)["end_date"].shift()
            prev_open = order.groupby(["customer_id", "product"], sort=False)["start_date"].shift().notna() & prev_end.isna()
            overlap = (prev_end > order["start_date"]).fillna(False).astype(bool) | prev_open.astype(bool)
            in_scope = scope_mask(ctx, "subscriptions").reindex(order.index).fillna(False).astype(bool)
            rows = order.loc[in_scope].drop(columns="_pos")
            detail = pd.DataFrame({"previous_end": prev_end.loc[rows.index]}, index=rows.index)
            return Outcome(rows, overlap.loc[rows.index], detail)

        checks.append(Check("subscriptions.start_date:no_overlap", "consistency", "subscriptions", "start_date",
                            "a customer's periods of one product do not overlap (no double counting)",
                            run_overlap))
    return checks
