"""Salesforce exports → canonical ``customers``, ``opportunities``, ``opportunity_history``, ``leads``.

Expected exports (Data Loader / Workbench / ``sf data query`` CSVs with API field names, or report
exports with their labels — both are recognised, case and punctuation ignored):

============================  =========================================================================
export (file stem)            columns
============================  =========================================================================
``Account``                   **Id**, Name, Website, Industry, BillingCountry, NumberOfEmployees,
                              AccountSource, Owner.Name (or OwnerId), CreatedDate; optional
                              Segment__c, Region__c
``Opportunity``               **Id**, AccountId, **StageName**, **Amount**, CloseDate, **CreatedDate**,
                              IsClosed, IsWon, Probability (0–100), ForecastCategoryName, Type,
                              LeadSource, Owner.Name (or OwnerId), CurrencyIsoCode; optional
                              Owner.UserRole.Name (team), Term__c (months), Product__c
``OpportunityHistory``        **OpportunityId**, **CreatedDate** (when the change was made),
                              **StageName**, Amount, CloseDate, ForecastCategory
``Lead``                      **Id**, **CreatedDate**, LeadSource, Campaign.Name, ConvertedDate,
                              ConvertedOpportunityId, ConvertedAccountId; optional MQL_Date__c,
                              SQL_Date__c
============================  =========================================================================

Translations:

* ``Probability`` is a percentage in Salesforce and a fraction here (``70`` → ``0.7``).
* ``ForecastCategoryName`` (Pipeline, Best Case, Commit, Closed, Omitted) and the API values of
  ``ForecastCategory`` (Pipeline, BestCase, Forecast, Closed, Omitted) → ``pipeline``,
  ``best_case``, ``commit``, ``closed``, ``omitted``.
* ``Type``: New Customer / New Business → ``new_business``; Existing Customer - Upgrade, Existing
  Business, Upsell, Expansion → ``expansion``; Renewal, Existing Customer - Replacement, Existing
  Customer - Downgrade → ``renewal``. Pass ``type_map`` to change or extend it; values left
  unmapped are reported by the schema.
* Account ``segment``: ``Segment__c`` when present, else from ``NumberOfEmployees`` (< 100 SMB,
  100–999 Mid-Market, ≥ 1000 Enterprise, the usual Gartner bands); ``region``: ``Region__c`` or
  the billing country's region (NA, EMEA, APAC, LATAM).
* ``OpportunityHistory`` has no closed/won flags: a stage in ``won_stages`` (default
  ``Closed Won``) is closed and won, one in ``lost_stages`` (default ``Closed Lost``) closed and
  lost, any other stage open.
* Dates may be ISO timestamps (``2025-03-31T17:02:11.000+0000``, converted to UTC dates) or report
  dates (``3/31/2025``).

>>> import pandas as pd
>>> opp = pd.DataFrame({"Id": ["006A"], "AccountId": ["001A"], "StageName": ["Negotiation"],
...     "Amount": ["12000"], "CloseDate": ["2025-06-30"], "CreatedDate": ["2025-01-15T10:00:00.000+0000"],
...     "IsClosed": ["false"], "IsWon": ["false"], "Probability": ["70"], "Type": ["New Customer"],
...     "ForecastCategoryName": ["Best Case"]})
>>> opportunities(opp)[["opportunity_id", "probability", "type", "forecast_category"]].values.tolist()
[['006A', 0.7, 'new_business', 'best_case']]
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from ._common import AdapterError, domain_from, find_file, map_values, read_export, take

__all__ = ["accounts", "opportunities", "opportunity_history", "leads", "to_frames",
           "FILES", "TYPE_MAP", "FORECAST_MAP"]

#: File stems recognised by :func:`to_frames` for each canonical table.
FILES = {
    "customers": ("Account", "Accounts"),
    "opportunities": ("Opportunity", "Opportunities"),
    "opportunity_history": ("OpportunityHistory", "Opportunity History", "OpportunityHistories"),
    "leads": ("Lead", "Leads"),
}

TYPE_MAP = {
    "New Customer": "new_business", "New Business": "new_business", "New": "new_business",
    "Existing Customer - Upgrade": "expansion", "Existing Business": "expansion",
    "Upsell": "expansion", "Upgrade": "expansion", "Expansion": "expansion", "Cross-sell": "expansion",
    "Renewal": "renewal", "Existing Customer - Replacement": "renewal",
    "Existing Customer - Downgrade": "renewal",
}
FORECAST_MAP = {"Pipeline": "pipeline", "Best Case": "best_case", "BestCase": "best_case",
                "Commit": "commit", "Forecast": "commit", "Closed": "closed", "Omitted": "omitted"}

_REGIONS = {
    "NA": ("US", "USA", "United States", "United States of America", "CA", "Canada"),
    "EMEA": ("GB", "UK", "United Kingdom", "DE", "Germany", "FR", "France", "NL", "Netherlands",
             "ES", "Spain", "IT", "Italy", "SE", "Sweden", "IE", "Ireland", "CH", "Switzerland",
             "BE", "Belgium", "DK", "Denmark", "NO", "Norway", "FI", "Finland", "AT", "Austria",
             "PL", "Poland", "PT", "Portugal", "AE", "United Arab Emirates", "IL", "Israel",
             "ZA", "South Africa"),
    "APAC": ("AU", "Australia", "NZ", "New Zealand", "JP", "Japan", "SG", "Singapore", "IN", "India",
             "CN", "China", "HK", "Hong Kong", "KR", "South Korea"),
    "LATAM": ("BR", "Brazil", "MX", "Mexico", "AR", "Argentina", "CL", "Chile", "CO", "Colombia"),
}
COUNTRY_REGION = {c: r for r, countries in _REGIONS.items() for c in countries}

_ACCOUNT = {
    "customer_id": ("Id", "Account ID", "AccountId", "Account ID (18)", "18 Digit Account ID"),
    "name": ("Name", "Account Name"),
    "domain": ("Website", "Domain", "Account Website"),
    "segment": ("Segment__c", "Segment", "Customer Segment"),
    "region": ("Region__c", "Region"),
    "country": ("BillingCountryCode", "BillingCountry", "Billing Country", "Billing Country Code"),
    "industry": ("Industry",),
    "acquisition_channel": ("AccountSource", "Account Source"),
    "owner": ("Owner.Name", "Account Owner", "Owner Name", "Owner", "OwnerId", "Owner ID"),
    "created_at": ("CreatedDate", "Created Date"),
    "_employees": ("NumberOfEmployees", "Employees", "Number of Employees"),
}
_OPPORTUNITY = {
    "opportunity_id": ("Id", "Opportunity ID", "OpportunityId", "Opportunity ID (18)"),
    "created_at": ("CreatedDate", "Created Date"),
    "stage": ("StageName", "Stage"),
    "amount": ("Amount", "Amount (converted)"),
    "customer_id": ("AccountId", "Account ID", "Account.Id"),
    "owner": ("Owner.Name", "Opportunity Owner", "Owner Name", "Owner", "OwnerId", "Owner ID"),
    "team": ("Owner.UserRole.Name", "Owner Role", "Team__c", "Team"),
    "source": ("LeadSource", "Lead Source"),
    "type": ("Type", "Opportunity Type"),
    "close_date": ("CloseDate", "Close Date"),
    "is_closed": ("IsClosed", "Closed"),
    "is_won": ("IsWon", "Won"),
    "probability": ("Probability", "Probability (%)"),
    "forecast_category": ("ForecastCategoryName", "Forecast Category", "ForecastCategory"),
    "term_months": ("Term__c", "Contract_Term__c", "Term (Months)", "Contract Term"),
    "currency": ("CurrencyIsoCode", "Opportunity Currency", "Currency"),
    "product": ("Product__c", "Primary Product", "Product"),
}
_HISTORY = {
    "opportunity_id": ("OpportunityId", "Opportunity ID", "Opportunity.Id"),
    "changed_at": ("CreatedDate", "Created Date", "Edit Date", "Last Modified", "Last Modified Date"),
    "stage": ("StageName", "Stage", "To Stage"),
    "amount": ("Amount",),
    "close_date": ("CloseDate", "Close Date"),
    "forecast_category": ("ForecastCategory", "ForecastCategoryName", "Forecast Category"),
}
_LEAD = {
    "lead_id": ("Id", "Lead ID"),
    "created_at": ("CreatedDate", "Created Date", "Create Date"),
    "channel": ("LeadSource", "Lead Source"),
    "campaign": ("Campaign.Name", "Primary Campaign Source", "Campaign Name", "Campaign"),
    "mql_at": ("MQL_Date__c", "MQL Date", "Marketing Qualified Date"),
    "sql_at": ("SQL_Date__c", "SQL Date", "Sales Qualified Date", "Sales Accepted Date"),
    "opportunity_id": ("ConvertedOpportunityId", "Converted Opportunity ID", "Converted Opportunity"),
    "customer_id": ("ConvertedAccountId", "Converted Account ID", "Converted Account"),
    "converted_at": ("ConvertedDate", "Converted Date"),
}


def _segment(employees: pd.Series) -> pd.Series:
    n = pd.to_numeric(pd.Series(employees).astype("string").str.replace(",", ""), errors="coerce").astype("float64")
    return pd.Series(np.select([n < 100, n < 1000, n >= 1000], ["SMB", "Mid-Market", "Enterprise"],
                               default=None), index=n.index).where(n.notna(), np.nan)


def accounts(frame: pd.DataFrame) -> pd.DataFrame:
    """Account export → canonical ``customers`` (see the module docstring for the columns)."""
    out = take(frame, _ACCOUNT, export="Salesforce Account", required=("customer_id",))
    employees = out.pop("_employees") if "_employees" in out.columns else None
    if "segment" not in out.columns and employees is not None:
        out["segment"] = _segment(employees)
    if "region" not in out.columns and "country" in out.columns:
        out["region"] = out["country"].map(lambda c: COUNTRY_REGION.get(str(c).strip()) if pd.notna(c) else None)
    if "domain" in out.columns:
        out["domain"] = domain_from(out["domain"])
    return out


def opportunities(frame: pd.DataFrame, *, type_map: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Opportunity export → canonical ``opportunities``.

    ``type_map`` extends :data:`TYPE_MAP` (Salesforce ``Type`` value → new_business / expansion /
    renewal).
    """
    out = take(frame, _OPPORTUNITY, export="Salesforce Opportunity",
               required=("opportunity_id", "created_at", "stage", "amount"))
    if "probability" in out.columns:
        pct = pd.to_numeric(pd.Series(out["probability"]).astype("string").str.rstrip("%").str.strip(),
                            errors="coerce")
        out["probability"] = pct / 100.0
    if "type" in out.columns:
        out["type"] = map_values(out["type"], {**TYPE_MAP, **(type_map or {})})
    if "forecast_category" in out.columns:
        out["forecast_category"] = map_values(out["forecast_category"], FORECAST_MAP)
    return out


def opportunity_history(frame: pd.DataFrame, *, won_stages: Iterable[str] = ("Closed Won",),
                        lost_stages: Iterable[str] = ("Closed Lost",)) -> pd.DataFrame:
    """OpportunityHistory export → canonical ``opportunity_history`` (closed/won flags from the
    stage: ``won_stages`` are closed and won, ``lost_stages`` closed and lost)."""
    out = take(frame, _HISTORY, export="Salesforce OpportunityHistory",
               required=("opportunity_id", "changed_at", "stage"))
    if "forecast_category" in out.columns:
        out["forecast_category"] = map_values(out["forecast_category"], FORECAST_MAP)
    stage = pd.Series(out["stage"]).astype("string").str.strip()
    won = stage.isin(list(won_stages)).fillna(False).astype(bool)
    lost = stage.isin(list(lost_stages)).fillna(False).astype(bool)
    out["is_closed"] = (won | lost).to_numpy()
    out["is_won"] = won.to_numpy()
    return out


def leads(frame: pd.DataFrame) -> pd.DataFrame:
    """Lead export → canonical ``leads`` (``channel`` is the Lead Source)."""
    return take(frame, _LEAD, export="Salesforce Lead", required=("lead_id", "created_at"))


def to_frames(folder: str | Path, *, type_map: Mapping[str, str] | None = None,
              won_stages: Iterable[str] = ("Closed Won",),
              lost_stages: Iterable[str] = ("Closed Lost",)) -> dict[str, pd.DataFrame]:
    """Read every Salesforce export found in ``folder`` (see :data:`FILES`) into canonical frames."""
    folder = Path(folder)
    frames: dict[str, pd.DataFrame] = {}
    readers = {
        "customers": accounts,
        "opportunities": lambda f: opportunities(f, type_map=type_map),
        "opportunity_history": lambda f: opportunity_history(f, won_stages=won_stages, lost_stages=lost_stages),
        "leads": leads,
    }
    for table, stems in FILES.items():
        path = find_file(folder, stems)
        if path is not None:
            frames[table] = readers[table](read_export(path))
    if not frames:
        raise AdapterError(f"no Salesforce export in {str(folder)!r}; expected files named "
                           f"{', '.join(s[0] + '.csv' for s in FILES.values())}")
    return frames
