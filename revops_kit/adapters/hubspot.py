"""HubSpot exports → canonical ``customers``, ``opportunities`` and ``opportunity_history``.

Expected exports (CRM API property names or the labels of a UI export; case and punctuation are
ignored):

=====================  ==============================================================================
export (file stem)     columns
=====================  ==============================================================================
``companies``          **hs_object_id** (Record ID), name, domain, industry, country,
                       numberofemployees, hs_analytics_source, hubspot_owner_id, createdate
``deals``              **hs_object_id** (Record ID), **dealstage**, pipeline, **amount**,
                       **createdate**, closedate, associatedcompanyid (Associated Company IDs),
                       dealtype, hubspot_owner_id, deal_currency_code, hs_analytics_source,
                       hs_deal_stage_probability, hs_forecast_category, hs_is_closed,
                       hs_is_closed_won, and optionally ``hs_date_entered_<stage id>`` columns
``deal_stage_history`` **hs_object_id** (or dealId), **value** (the stage id), **timestamp** — the
                       ``dealstage`` property history (``propertiesWithHistory=dealstage``),
                       one row per change; ISO timestamps or epoch milliseconds
``pipelines.json``     the deal pipelines as returned by ``GET /crm/v3/pipelines/deals``:
                       ``{"results": [{"id", "label", "stages": [{"id", "label", "displayOrder",
                       "metadata": {"isClosed": "true", "probability": "1.0"}}]}]}``
=====================  ==============================================================================

Translations:

* ``dealstage`` holds a stage **id** (``closedwon``, ``appointmentscheduled`` or a number for
  custom stages); the pipeline definition turns it into the stage label, and its metadata gives
  ``is_closed`` and the probability (won = closed with probability 1). ``hs_is_closed`` /
  ``hs_is_closed_won`` / ``hs_deal_stage_probability`` on the deal take precedence when present.
* ``dealtype``: ``newbusiness`` → new_business, ``existingbusiness`` → expansion, ``renewal`` →
  renewal (extend with ``type_map``).
* ``hs_forecast_category``: OMIT/PIPELINE/BEST_CASE/COMMIT/CLOSED → omitted/pipeline/
  best_case/commit/closed. Without it, won deals are ``closed``, lost ones ``omitted`` and open
  ones ``pipeline`` (HubSpot's default for open stages).
* Owners are ids in HubSpot; pass ``owners`` (id → name) to get names.
* A deal associated with several companies (``"123;456"``) is attributed to the first one.
* Stage history: from ``deal_stage_history`` when given, else from the deals'
  ``hs_date_entered_<stage id>`` columns (one change per stage entered).

>>> pipes = {"results": [{"id": "default", "label": "Sales", "stages": [
...     {"id": "qualifiedtobuy", "label": "Qualified", "metadata": {"isClosed": "false", "probability": "0.4"}},
...     {"id": "closedwon", "label": "Closed Won", "metadata": {"isClosed": "true", "probability": "1.0"}}]}]}
>>> import pandas as pd
>>> d = pd.DataFrame({"hs_object_id": ["1"], "dealstage": ["closedwon"], "amount": ["5000"],
...                   "createdate": ["2025-01-02T09:00:00Z"], "dealtype": ["newbusiness"]})
>>> deals(d, pipelines=pipes)[["stage", "is_closed", "is_won", "probability", "type"]].values.tolist()
[['Closed Won', True, True, 1.0, 'new_business']]
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd

from ._common import (AdapterError, column_key, domain_from, epoch_to_date, find_column, find_file,
                      map_values, read_export, take)

__all__ = ["pipeline_stages", "companies", "deals", "deal_stage_history", "to_frames",
           "FILES", "DEALTYPE_MAP"]

FILES = {
    "companies": ("companies", "company"),
    "deals": ("deals", "deal"),
    "history": ("deal_stage_history", "dealstage_history", "deal_history", "deals_history"),
    "pipelines": ("pipelines", "deal_pipelines"),
}

DEALTYPE_MAP = {"newbusiness": "new_business", "New Business": "new_business",
                "existingbusiness": "expansion", "Existing Business": "expansion",
                "renewal": "renewal", "Renewal": "renewal"}
FORECAST_MAP = {"OMIT": "omitted", "PIPELINE": "pipeline", "BEST_CASE": "best_case",
                "COMMIT": "commit", "CLOSED": "closed"}

_COMPANY = {
    "customer_id": ("hs_object_id", "Record ID", "Company ID", "companyId", "id"),
    "name": ("name", "Company name"),
    "domain": ("domain", "Company Domain Name", "website", "Website URL"),
    "segment": ("segment", "Customer Segment"),
    "country": ("country", "Country/Region", "Country"),
    "industry": ("industry", "Industry"),
    "acquisition_channel": ("hs_analytics_source", "Original Source", "Original Source Type"),
    "owner": ("hubspot_owner_id", "Company owner", "Owner"),
    "created_at": ("createdate", "Create Date"),
    "_employees": ("numberofemployees", "Number of Employees"),
}
_DEAL = {
    "opportunity_id": ("hs_object_id", "Record ID", "Deal ID", "dealId", "id"),
    "created_at": ("createdate", "Create Date"),
    "stage": ("dealstage", "Deal Stage"),
    "_pipeline": ("pipeline", "Pipeline"),
    "amount": ("amount", "Amount"),
    "customer_id": ("associatedcompanyid", "Associated Company IDs", "Associated Company ID",
                    "Associated Company IDs (Primary)", "company_id"),
    "owner": ("hubspot_owner_id", "Deal owner", "Owner"),
    "source": ("hs_analytics_source", "Original Source Type", "Original Source", "lead_source"),
    "type": ("dealtype", "Deal Type"),
    "close_date": ("closedate", "Close Date"),
    "is_closed": ("hs_is_closed", "Is Closed"),
    "is_won": ("hs_is_closed_won", "Is Closed Won"),
    "probability": ("hs_deal_stage_probability", "Deal probability"),
    "forecast_category": ("hs_forecast_category", "Forecast category"),
    "currency": ("deal_currency_code", "Currency"),
    "term_months": ("term_months", "Contract term (months)"),
}
_HISTORY = {
    "opportunity_id": ("hs_object_id", "dealId", "deal_id", "objectId", "Record ID"),
    "stage": ("value", "dealstage", "stage"),
    "changed_at": ("timestamp", "changed_at", "updatedAt", "Timestamp"),
    "_pipeline": ("pipeline",),
}


def _hs_date(values) -> pd.Series:
    """HubSpot dates: ISO strings, or epoch milliseconds (API) — both to UTC dates."""
    return epoch_to_date(pd.Series(values), unit="ms")


def _bool(values) -> pd.Series:
    text = pd.Series(values).astype("string").str.strip().str.lower()
    return text.map({"true": True, "false": False, "1": True, "0": False}).astype("boolean")


def pipeline_stages(pipelines) -> pd.DataFrame:
    """The deal pipelines as a table: ``pipeline, stage_id, label, order, is_closed, probability,
    is_won``.

    ``pipelines`` is the JSON of ``GET /crm/v3/pipelines/deals`` (a dict with ``results``, a list
    of pipelines, a JSON string or a path to a ``.json`` file) or an equivalent DataFrame.
    """
    if isinstance(pipelines, pd.DataFrame):
        table = pipelines.copy()
        table.columns = [column_key(c) for c in table.columns]
        rename = {"stageid": "stage_id", "isclosed": "is_closed", "displayorder": "order", "id": "stage_id"}
        table = table.rename(columns=rename)
    else:
        if isinstance(pipelines, (str, Path)) and Path(str(pipelines)).suffix.lower() == ".json" \
                and Path(str(pipelines)).exists():
            pipelines = json.loads(Path(pipelines).read_text(encoding="utf-8"))
        elif isinstance(pipelines, str):
            pipelines = json.loads(pipelines)
        if isinstance(pipelines, dict):
            pipelines = pipelines.get("results", [pipelines])
        rows = []
        for pipe in pipelines:
            for stage in pipe.get("stages", []):
                meta = stage.get("metadata", {}) or {}
                rows.append({"pipeline": str(pipe.get("id")), "stage_id": str(stage.get("id")),
                             "label": stage.get("label"), "order": stage.get("displayOrder"),
                             "is_closed": str(meta.get("isClosed", "false")).lower() == "true",
                             "probability": pd.to_numeric(meta.get("probability"), errors="coerce")})
        table = pd.DataFrame(rows, columns=["pipeline", "stage_id", "label", "order", "is_closed", "probability"])
    missing = {"stage_id", "label", "is_closed", "probability"} - set(table.columns)
    if missing:
        raise AdapterError(f"HubSpot pipelines: missing {sorted(missing)}; expected the JSON of "
                           "GET /crm/v3/pipelines/deals or columns pipeline, stage_id, label, is_closed, probability")
    if "pipeline" not in table.columns:
        table["pipeline"] = pd.NA
    table["is_closed"] = _bool(table["is_closed"]).fillna(False).astype(bool) \
        if table["is_closed"].dtype != bool else table["is_closed"]
    table["probability"] = pd.to_numeric(table["probability"], errors="coerce")
    table["is_won"] = table["is_closed"] & (table["probability"] >= 1.0)
    return table.reset_index(drop=True)


def _stage_lookup(stage_ids: pd.Series, pipes: pd.Series | None, stages: pd.DataFrame) -> pd.DataFrame:
    """Stage metadata for each deal (by pipeline and stage id, or by stage id alone)."""
    key = pd.DataFrame({"stage_id": pd.Series(stage_ids).astype("string").str.strip().to_numpy()})
    s = stages.assign(stage_id=stages["stage_id"].astype("string"))
    if pipes is not None and stages["pipeline"].notna().any():
        key["pipeline"] = pd.Series(pipes).astype("string").str.strip().to_numpy()
        by_both = key.merge(s.drop_duplicates(["pipeline", "stage_id"]), on=["pipeline", "stage_id"], how="left")
        by_id = key[["stage_id"]].merge(s.drop_duplicates("stage_id"), on="stage_id", how="left")
        for c in ("label", "is_closed", "probability", "is_won"):  # a stage id unique across pipelines
            by_both[c] = by_both[c].where(by_both[c].notna(), by_id[c])
        return by_both
    return key.merge(s.drop_duplicates("stage_id"), on="stage_id", how="left")


def companies(frame: pd.DataFrame, *, owners: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Companies export → canonical ``customers`` (segment from ``numberofemployees`` when there
    is no segment property: < 100 SMB, 100–999 Mid-Market, ≥ 1000 Enterprise)."""
    from .salesforce import _segment

    out = take(frame, _COMPANY, export="HubSpot companies", required=("customer_id",))
    employees = out.pop("_employees") if "_employees" in out.columns else None
    if "segment" not in out.columns and employees is not None:
        out["segment"] = _segment(employees)
    if "domain" in out.columns:
        out["domain"] = domain_from(out["domain"])
    if "created_at" in out.columns:
        out["created_at"] = _hs_date(out["created_at"]).to_numpy()
    if "acquisition_channel" in out.columns:
        out["acquisition_channel"] = pd.Series(out["acquisition_channel"]).astype("string").str.lower().to_numpy()
    if owners is not None and "owner" in out.columns:
        out["owner"] = pd.Series(out["owner"]).map(lambda v: owners.get(str(v), v) if pd.notna(v) else v).to_numpy()
    return out


def deals(frame: pd.DataFrame, *, pipelines, owners: Mapping[str, str] | None = None,
          type_map: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Deals export → canonical ``opportunities``; ``pipelines`` maps stage ids to labels and
    closed/won/probability (see :func:`pipeline_stages`)."""
    stages = pipeline_stages(pipelines)
    out = take(frame, _DEAL, export="HubSpot deals",
               required=("opportunity_id", "created_at", "stage", "amount"))
    pipes = out.pop("_pipeline") if "_pipeline" in out.columns else None
    meta = _stage_lookup(out["stage"], pipes, stages)
    unknown = meta["label"].isna() & pd.Series(out["stage"]).notna().to_numpy()
    if unknown.any():
        bad = sorted(pd.Series(out["stage"])[unknown.to_numpy()].astype(str).unique())
        raise AdapterError(f"HubSpot deals: dealstage id(s) {bad[:10]} are not in the pipeline "
                           f"definition (known: {sorted(stages['stage_id'].astype(str))[:20]})")
    out["stage"] = meta["label"].to_numpy()
    flags_closed = _bool(out["is_closed"]) if "is_closed" in out.columns else pd.Series(pd.NA, index=out.index, dtype="boolean")
    flags_won = _bool(out["is_won"]) if "is_won" in out.columns else pd.Series(pd.NA, index=out.index, dtype="boolean")
    out["is_closed"] = flags_closed.fillna(meta["is_closed"].astype("boolean")).to_numpy()
    out["is_won"] = flags_won.fillna(meta["is_won"].astype("boolean")).to_numpy()
    prob = pd.to_numeric(pd.Series(out["probability"]), errors="coerce") if "probability" in out.columns \
        else pd.Series(np.nan, index=out.index)
    out["probability"] = prob.fillna(meta["probability"]).to_numpy()
    for col in ("created_at", "close_date"):
        if col in out.columns:
            out[col] = _hs_date(out[col]).to_numpy()
    if "customer_id" in out.columns:
        out["customer_id"] = pd.Series(out["customer_id"]).astype("string").str.split(";").str[0].str.strip().to_numpy()
    if "type" in out.columns:
        out["type"] = map_values(out["type"], {**DEALTYPE_MAP, **(type_map or {})})
    if "forecast_category" in out.columns:
        out["forecast_category"] = map_values(out["forecast_category"], FORECAST_MAP)
    else:
        closed = pd.Series(out["is_closed"]).astype("boolean").fillna(False).astype(bool)
        won = pd.Series(out["is_won"]).astype("boolean").fillna(False).astype(bool)
        out["forecast_category"] = np.where(won, "closed", np.where(closed, "omitted", "pipeline"))
    if "source" in out.columns:
        out["source"] = pd.Series(out["source"]).astype("string").str.lower().to_numpy()
    if owners is not None and "owner" in out.columns:
        out["owner"] = pd.Series(out["owner"]).map(lambda v: owners.get(str(v), v) if pd.notna(v) else v).to_numpy()
    return out


def deal_stage_history(history: pd.DataFrame | None = None, *, pipelines,
                       deals: pd.DataFrame | None = None) -> pd.DataFrame:
    """Deal stage history → canonical ``opportunity_history``.

    From the ``dealstage`` property history (``history``: one row per change) or, when it is
    ``None``, from the ``hs_date_entered_<stage id>`` columns of the deals export.
    """
    stages = pipeline_stages(pipelines)
    if history is not None:
        out = take(history, _HISTORY, export="HubSpot deal stage history",
                   required=("opportunity_id", "stage", "changed_at"))
        pipes = out.pop("_pipeline") if "_pipeline" in out.columns else None
        stage_ids = out["stage"]
        changed = _hs_date(out["changed_at"])
    else:
        if deals is None:
            raise AdapterError("HubSpot deal stage history: give the dealstage property history or the "
                               "deals export with hs_date_entered_<stage id> columns")
        id_col = find_column(deals, _DEAL["opportunity_id"])
        entered = [c for c in deals.columns if column_key(c).startswith("hsdateentered")]
        if id_col is None or not entered:
            raise AdapterError("HubSpot deals: no hs_date_entered_<stage id> columns to build the stage "
                               f"history from (columns: {list(map(str, deals.columns))})")
        by_key = {column_key(s): s for s in stages["stage_id"].astype(str)}
        long = deals[[id_col] + entered].melt(id_vars=id_col, var_name="col", value_name="when")
        long = long[long["when"].notna() & (long["when"].astype("string").str.strip() != "")]
        long["stage_id"] = long["col"].map(lambda c: by_key.get(column_key(c)[len("hsdateentered"):]))
        if long["stage_id"].isna().any():
            bad = sorted(long.loc[long["stage_id"].isna(), "col"].unique())
            raise AdapterError(f"HubSpot deals: {bad[:5]} name stages that are not in the pipelines")
        out = pd.DataFrame({"opportunity_id": long[id_col].to_numpy()})
        stage_ids, pipes = long["stage_id"], None
        changed = _hs_date(long["when"])
    meta = _stage_lookup(stage_ids, pipes, stages)
    if meta["label"].isna().any():
        bad = sorted(pd.Series(stage_ids)[meta["label"].isna().to_numpy()].astype(str).unique())
        raise AdapterError(f"HubSpot deal stage history: stage id(s) {bad[:10]} are not in the pipelines")
    result = pd.DataFrame({
        "opportunity_id": pd.Series(out["opportunity_id"]).astype("string").to_numpy(),
        "changed_at": changed.to_numpy(),
        "stage": meta["label"].to_numpy(),
        "is_closed": meta["is_closed"].astype(bool).to_numpy(),
        "is_won": meta["is_won"].astype(bool).to_numpy(),
    })
    return result.sort_values(["opportunity_id", "changed_at"], kind="stable").reset_index(drop=True)


def to_frames(folder: str | Path, *, pipelines=None, owners: Mapping[str, str] | None = None,
              type_map: Mapping[str, str] | None = None) -> dict[str, pd.DataFrame]:
    """Read the HubSpot exports found in ``folder`` (see :data:`FILES`); the pipelines come from
    ``pipelines`` or from ``pipelines.json`` in the folder."""
    folder = Path(folder)
    frames: dict[str, pd.DataFrame] = {}
    path = find_file(folder, FILES["companies"])
    if path is not None:
        frames["customers"] = companies(read_export(path), owners=owners)
    deal_path = find_file(folder, FILES["deals"])
    hist_path = find_file(folder, FILES["history"])
    if deal_path is not None or hist_path is not None:
        if pipelines is None:
            pipe_path = find_file(folder, FILES["pipelines"])
            if pipe_path is None:
                raise AdapterError(f"HubSpot deals in {str(folder)!r} need the pipeline definition: "
                                   "pass pipelines= or add pipelines.json (GET /crm/v3/pipelines/deals)")
            pipelines = pipe_path
        raw_deals = read_export(deal_path) if deal_path is not None else None
        if raw_deals is not None:
            frames["opportunities"] = deals(raw_deals, pipelines=pipelines, owners=owners, type_map=type_map)
        if hist_path is not None:
            frames["opportunity_history"] = deal_stage_history(read_export(hist_path), pipelines=pipelines)
        elif raw_deals is not None and any(column_key(c).startswith("hsdateentered") for c in raw_deals.columns):
            frames["opportunity_history"] = deal_stage_history(None, pipelines=pipelines, deals=raw_deals)
    if not frames:
        raise AdapterError(f"no HubSpot export in {str(folder)!r}; expected companies.csv, deals.csv, "
                           "deal_stage_history.csv and pipelines.json")
    return frames
