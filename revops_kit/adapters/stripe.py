"""Stripe exports → canonical ``customers``, ``subscriptions`` and ``invoices``.

Expected exports (API objects flattened with dots — ``price.unit_amount`` — as written by
``pandas.json_normalize`` or Sigma/Data Pipeline tables with underscores; JSON lists of API
objects are read too):

=========================  ==========================================================================
export (file stem)         columns
=========================  ==========================================================================
``customers``              **id**, name, email, created (epoch s), address.country, currency,
                           metadata.<your CRM id field>
``subscriptions``          **id**, **customer**, **status**, start_date, created, trial_end,
                           current_period_start, current_period_end, canceled_at, ended_at
                           (epoch seconds)
``subscription_items``     **id**, **subscription**, quantity, price.id, price.nickname,
                           price.product, **price.unit_amount** (minor units, e.g. cents),
                           price.currency, **price.recurring.interval** (day/week/month/year),
                           price.recurring.interval_count — or the legacy ``plan.*`` fields. When
                           absent, the item fields are read from the subscriptions export (one
                           item per subscription) or from its ``items.data`` lists.
``invoices``               **id**, **customer**, **amount_due** (minor units), amount_paid,
                           currency, **status**, **created**, due_date, status_transitions.paid_at
                           (or paid_at), billing_reason, collection_method (epoch seconds)
=========================  ==========================================================================

Translations:

* MRR of an item = unit_amount ÷ 100 (not for zero-decimal currencies such as JPY) × quantity,
  per month: ``month`` ÷ interval_count, ``year`` ÷ (12 × interval_count), ``week`` × 52 ÷ 12,
  ``day`` × 365 ÷ 12. Discounts and taxes are ignored.
* One canonical subscription row per subscription item (``subscription_id`` = the item id).
  ``start_date`` = the subscription's ``start_date`` (or ``created``), moved to ``trial_end``
  when the subscription was trialing first; ``end_date`` = ``ended_at`` (or ``canceled_at`` of a
  canceled subscription); ``committed_end_date`` = ``current_period_end`` (paid up to).
* Status: ``active``, ``past_due`` and ``unpaid`` carry MRR; ``trialing``, ``incomplete``,
  ``incomplete_expired`` and ``paused`` carry MRR 0 (listed in ``notes``).
* Invoices: ``amount`` = amount_due ÷ 100, ``issued_at`` = created, ``kind`` = ``recurring`` for
  billing reasons ``subscription_*``, else ``one_time``. Drafts (not issued) and void invoices are
  left out and counted in ``notes``. Auto-charged invoices have no due date; their ``due_at`` is
  the issue date.
* Customer ids: Stripe's ``cus_…`` ids, or — with ``id_field="metadata.crm_id"`` — the CRM id kept
  in the customer's metadata, so that billing joins the CRM; subscriptions and invoices are
  translated with the same map (customers without the field keep their Stripe id).

>>> import pandas as pd
>>> subs = pd.DataFrame({"id": ["sub_1"], "customer": ["cus_1"], "status": ["active"],
...     "start_date": ["1735689600"], "current_period_end": ["1767225600"],
...     "price.unit_amount": ["120000"], "price.currency": ["usd"], "quantity": ["2"],
...     "price.recurring.interval": ["year"]})
>>> subscriptions(subs)[["subscription_id", "start_date", "mrr", "currency"]].values.tolist()
[['sub_1', Timestamp('2025-01-01 00:00:00'), 200.0, 'USD']]
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd

from ._common import AdapterError, domain_from, epoch_to_date, find_column, find_file, read_export, take

__all__ = ["customers", "subscriptions", "invoices", "monthly_factor", "to_frames",
           "FILES", "ZERO_DECIMAL_CURRENCIES"]

FILES = {
    "customers": ("customers", "customer"),
    "subscriptions": ("subscriptions", "subscription"),
    "items": ("subscription_items", "subscription_item", "items"),
    "invoices": ("invoices", "invoice"),
}

#: Currencies whose amounts Stripe gives in major units (https://docs.stripe.com/currencies).
ZERO_DECIMAL_CURRENCIES = frozenset({"BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG",
                                     "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"})
_PAYING = {"active", "past_due", "unpaid", "canceled"}
_NOT_PAYING = {"trialing", "incomplete", "incomplete_expired", "paused"}

_CUSTOMER = {
    "customer_id": ("id",),
    "name": ("name", "Name", "description"),
    "_email": ("email", "Email"),
    "country": ("address.country", "address_country", "Address Country", "country"),
    "created_at": ("created", "Created (UTC)", "created_at"),
}
_SUB = {
    "subscription": ("id", "subscription_id"),
    "customer": ("customer", "customer_id", "Customer ID"),
    "status": ("status", "Status"),
    "start_date": ("start_date", "Start Date (UTC)", "start"),
    "created": ("created", "Created (UTC)"),
    "trial_end": ("trial_end", "Trial End (UTC)"),
    "current_period_end": ("current_period_end", "Current Period End (UTC)"),
    "canceled_at": ("canceled_at", "Canceled At (UTC)"),
    "ended_at": ("ended_at", "Ended At (UTC)"),
}
_ITEM = {
    "item": ("id", "item_id", "subscription_item_id"),
    "subscription": ("subscription", "subscription_id"),
    "quantity": ("quantity", "Quantity"),
    "unit_amount": ("price.unit_amount", "plan.amount", "unit_amount", "Amount"),
    "currency": ("price.currency", "plan.currency", "currency", "Currency"),
    "interval": ("price.recurring.interval", "plan.interval", "interval", "Interval"),
    "interval_count": ("price.recurring.interval_count", "plan.interval_count", "interval_count",
                       "Interval Count"),
    "product": ("price.product.name", "price.product", "plan.product", "product", "Product"),
    "plan": ("price.nickname", "plan.nickname", "price.lookup_key", "price.id", "plan.id", "Plan"),
}
_INVOICE = {
    "invoice_id": ("id", "invoice_id"),
    "customer_id": ("customer", "customer_id", "Customer"),
    "amount": ("amount_due", "Amount Due"),
    "currency": ("currency", "Currency"),
    "_status": ("status", "Status"),
    "issued_at": ("created", "Date (UTC)", "effective_at", "finalized_at"),
    "due_at": ("due_date", "Due Date (UTC)"),
    "paid_at": ("status_transitions.paid_at", "paid_at", "Paid At (UTC)"),
    "_reason": ("billing_reason", "Billing Reason"),
    "_collection": ("collection_method", "Collection Method"),
}


def _note(notes: list[str] | None, text: str) -> None:
    if notes is not None:
        notes.append(text)


def _minor_to_major(amounts, currencies) -> pd.Series:
    value = pd.to_numeric(pd.Series(amounts).astype("string").str.strip(), errors="coerce")
    cur = pd.Series(currencies).astype("string").str.upper()
    divisor = np.where(cur.isin(ZERO_DECIMAL_CURRENCIES).fillna(False), 1.0, 100.0)
    return pd.Series(value.to_numpy() / divisor)


def monthly_factor(interval: pd.Series, interval_count: pd.Series | None = None) -> pd.Series:
    """Months-per-billing-period factor: an amount billed every ``interval_count`` ``interval``
    times this factor is its monthly amount.

    >>> monthly_factor(pd.Series(["month", "year", "week", "day", "month"]),
    ...                pd.Series([1, 1, 1, 1, 3])).round(4).tolist()
    [1.0, 0.0833, 4.3333, 30.4167, 0.3333]
    """
    text = pd.Series(interval).astype("string").str.strip().str.lower()
    per_month = text.map({"month": 1.0, "year": 1 / 12, "week": 52 / 12, "day": 365 / 12})
    unknown = text.notna() & per_month.isna()
    if unknown.any():
        raise AdapterError(f"Stripe price interval(s) {sorted(text[unknown].unique())} not understood; "
                           "expected day, week, month or year")
    count = (pd.to_numeric(pd.Series(interval_count), errors="coerce").fillna(1.0)
             if interval_count is not None else 1.0)
    return (per_month / count).astype("float64")


def customers(frame: pd.DataFrame, *, id_field: str | None = None, ignore_mail_domains=None) -> pd.DataFrame:
    """Customers export → canonical ``customers``.

    ``domain`` comes from the e-mail address unless it is a free-mail domain (gmail.com ...).
    With ``id_field`` (e.g. ``"metadata.crm_id"``) the customer id is that field where it is
    filled, else the Stripe id.
    """
    from ..quality import DEFAULT_QUALITY

    out = take(frame, _CUSTOMER, export="Stripe customers", required=("customer_id",))
    if id_field is not None:
        out["customer_id"] = _translate(out["customer_id"], _id_map_from(frame, id_field))
    email = out.pop("_email") if "_email" in out.columns else None
    if email is not None:
        ignore = DEFAULT_QUALITY.free_mail_domains if ignore_mail_domains is None else ignore_mail_domains
        out["domain"] = domain_from(email, ignore=ignore).to_numpy()
    if "created_at" in out.columns:
        out["created_at"] = epoch_to_date(out["created_at"]).to_numpy()
    if "country" in out.columns:
        out["country"] = pd.Series(out["country"]).astype("string").str.upper().to_numpy()
    return out


def _id_map_from(frame: pd.DataFrame, id_field: str) -> pd.Series:
    """Stripe customer id → CRM id from ``id_field`` (rows without it are left out)."""
    sid = find_column(frame, ("id",))
    col = find_column(frame, (id_field,))
    if sid is None or col is None:
        raise AdapterError(f"Stripe customers: no column {id_field!r} (or 'id') to map customer ids; "
                           f"found {list(map(str, frame.columns))}")
    pairs = pd.DataFrame({"sid": frame[sid].astype("string"), "crm": frame[col].astype("string").str.strip()})
    pairs = pairs[pairs["crm"].notna() & (pairs["crm"] != "")]
    return pairs.drop_duplicates("sid").set_index("sid")["crm"]


def _translate(ids: pd.Series, id_map: Mapping[str, str] | pd.Series | None) -> np.ndarray:
    s = pd.Series(ids).astype("string")
    if id_map is None:
        return s.to_numpy()
    mapping = id_map if isinstance(id_map, pd.Series) else pd.Series(dict(id_map), dtype="string")
    return s.map(mapping).fillna(s).to_numpy()


def _items_from(subs_raw: pd.DataFrame) -> pd.DataFrame:
    """Subscription items taken from an ``items.data`` column of lists, or from the subscription
    rows themselves (one item per subscription)."""
    col = find_column(subs_raw, ("items.data",))
    sid = find_column(subs_raw, _SUB["subscription"])
    if col is not None:
        rows = []
        for sub_id, items in zip(subs_raw[sid], subs_raw[col]):
            for item in (items if isinstance(items, list) else []):
                rows.append({**item, "subscription": sub_id})
        return pd.json_normalize(rows)
    items = subs_raw.copy()
    items["subscription"] = subs_raw[sid]
    return items.drop(columns=[sid])


def subscriptions(subscriptions: pd.DataFrame, items: pd.DataFrame | None = None, *,
                  id_map: Mapping[str, str] | pd.Series | None = None,
                  notes: list[str] | None = None) -> pd.DataFrame:
    """Subscriptions (+ subscription items) → canonical ``subscriptions``, one row per item.

    ``id_map`` translates Stripe customer ids to CRM ids; ``notes`` (a list) receives what was
    set to MRR 0 and why.
    """
    subs = take(subscriptions, _SUB, export="Stripe subscriptions", required=("subscription", "customer", "status"))
    if items is None:
        items = _items_from(subscriptions)
        item_spec = {**_ITEM, "item": ("subscription",)} if find_column(subscriptions, ("items.data",)) is None \
            else _ITEM
    else:
        item_spec = _ITEM
    it = take(items, item_spec, export="Stripe subscription items",
              required=("item", "subscription", "unit_amount", "interval"))
    merged = it.merge(subs, on="subscription", how="left", validate="many_to_one")
    orphan = merged["customer"].isna()
    if orphan.any():
        raise AdapterError(f"Stripe subscription items: {int(orphan.sum())} item(s) belong to subscriptions "
                           f"missing from the subscriptions export, e.g. {merged.loc[orphan, 'subscription'].iloc[0]!r}")
    status = merged["status"].astype("string").str.strip().str.lower()
    unknown = status.notna() & ~status.isin(_PAYING | _NOT_PAYING)
    if unknown.any():
        raise AdapterError(f"Stripe subscriptions: unknown status(es) {sorted(status[unknown].unique())}")
    currency = merged["currency"].astype("string").str.upper() if "currency" in merged.columns \
        else pd.Series(pd.NA, index=merged.index, dtype="string")
    quantity = pd.to_numeric(merged["quantity"], errors="coerce").fillna(1.0) if "quantity" in merged.columns \
        else pd.Series(1.0, index=merged.index)
    unit = _minor_to_major(merged["unit_amount"], currency)
    mrr = (unit * quantity * monthly_factor(merged["interval"], merged.get("interval_count"))).round(2)
    not_paying = status.isin(_NOT_PAYING).fillna(False).astype(bool)
    if not_paying.any():
        counts = status[not_paying].value_counts().sort_index()
        _note(notes, "stripe subscriptions: MRR set to 0 for " + ", ".join(
            f"{n} {s}" for s, n in counts.items()) + " subscription item(s) (not paying)")
    mrr = mrr.where(~not_paying, 0.0)

    def dates(col):
        return epoch_to_date(merged[col]) if col in merged.columns else pd.Series(pd.NaT, index=merged.index,
                                                                                   dtype="datetime64[ns]")

    start = dates("start_date").fillna(dates("created"))
    trial_end = dates("trial_end")
    moved = trial_end.notna() & (trial_end > start) & ~status.eq("trialing").fillna(False).astype(bool)
    start = start.where(~moved, trial_end)
    end = dates("ended_at").fillna(dates("canceled_at").where(status.eq("canceled").fillna(False).astype(bool)))
    committed = dates("current_period_end")
    committed = committed.where(committed > start)
    out = pd.DataFrame({
        "subscription_id": merged["item"].astype("string").to_numpy(),
        "customer_id": _translate(merged["customer"], id_map),
        "start_date": start.to_numpy(),
        "end_date": end.to_numpy(),
        "mrr": mrr.to_numpy(),
        "currency": currency.to_numpy(),
        "quantity": quantity.to_numpy(),
        "committed_end_date": committed.to_numpy(),
    })
    for col in ("product", "plan"):
        if col in merged.columns:
            out[col] = merged[col].to_numpy()
    return out


def invoices(frame: pd.DataFrame, *, id_map: Mapping[str, str] | pd.Series | None = None,
             notes: list[str] | None = None) -> pd.DataFrame:
    """Invoices export → canonical ``invoices`` (drafts and void invoices left out, see ``notes``)."""
    out = take(frame, _INVOICE, export="Stripe invoices",
               required=("invoice_id", "customer_id", "amount", "issued_at", "_status"))
    status = pd.Series(out.pop("_status")).astype("string").str.strip().str.lower()
    skip = status.isin(["draft", "void", "deleted"]).fillna(False).astype(bool)
    if skip.any():
        counts = status[skip].value_counts().sort_index()
        _note(notes, "stripe invoices: left out " + ", ".join(f"{n} {s}" for s, n in counts.items())
              + " invoice(s) (never issued or cancelled)")
    reason = pd.Series(out.pop("_reason")).astype("string") if "_reason" in out.columns else None
    collection = pd.Series(out.pop("_collection")).astype("string") if "_collection" in out.columns else None
    currency = pd.Series(out["currency"]).astype("string").str.upper() if "currency" in out.columns \
        else pd.Series(pd.NA, index=out.index, dtype="string")
    out["amount"] = _minor_to_major(out["amount"], currency).to_numpy()
    if "currency" in out.columns:
        out["currency"] = currency.to_numpy()
    for col in ("issued_at", "due_at", "paid_at"):
        if col in out.columns:
            out[col] = epoch_to_date(out[col]).to_numpy()
    if "due_at" not in out.columns:
        out["due_at"] = pd.Series(pd.NaT, index=out.index, dtype="datetime64[ns]")
    auto = (collection.str.lower().eq("charge_automatically").fillna(False).astype(bool)
            if collection is not None else pd.Series(True, index=out.index))
    fill = pd.Series(out["due_at"]).isna() & auto & ~skip
    if fill.any():
        _note(notes, f"stripe invoices: due_at set to the issue date for {int(fill.sum())} auto-charged invoice(s)")
        out.loc[fill, "due_at"] = out.loc[fill, "issued_at"]
    if reason is not None:
        out["kind"] = np.where(reason.str.startswith("subscription").fillna(False), "recurring", "one_time")
    out["customer_id"] = _translate(out["customer_id"], id_map)
    return out.loc[~skip.to_numpy()].reset_index(drop=True)


def to_frames(folder: str | Path, *, id_field: str | None = None,
              notes: list[str] | None = None) -> dict[str, pd.DataFrame]:
    """Read the Stripe exports found in ``folder`` (see :data:`FILES`)."""
    folder = Path(folder)
    frames: dict[str, pd.DataFrame] = {}
    id_map = None
    path = find_file(folder, FILES["customers"])
    if path is not None:
        raw = read_export(path)
        if id_field is not None:
            id_map = _id_map_from(raw, id_field)
        frames["customers"] = customers(raw, id_field=id_field)
    elif id_field is not None:
        raise AdapterError(f"id_field={id_field!r} needs the Stripe customers export in {str(folder)!r}")
    path = find_file(folder, FILES["subscriptions"])
    if path is not None:
        item_path = find_file(folder, FILES["items"])
        items = read_export(item_path) if item_path is not None else None
        frames["subscriptions"] = subscriptions(read_export(path), items, id_map=id_map, notes=notes)
    path = find_file(folder, FILES["invoices"])
    if path is not None:
        frames["invoices"] = invoices(read_export(path), id_map=id_map, notes=notes)
    if not frames:
        raise AdapterError(f"no Stripe export in {str(folder)!r}; expected customers.csv, subscriptions.csv, "
                           "subscription_items.csv and invoices.csv")
    return frames
