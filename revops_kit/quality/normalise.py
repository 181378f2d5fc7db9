"""Normalisation of company names and web domains, and likely-duplicate accounts.

Names are normalised (lowercase, accents and punctuation removed, legal suffixes such as Inc, Ltd,
LLC, GmbH, Corp, Co, SA, AG, PLC, BV dropped from the end) and domains are normalised (lowercase,
no scheme, ``www.`` or path; free-mail domains such as gmail.com are ignored). Accounts sharing
either key form a cluster; the oldest account of a cluster (by ``created_at``, then
``customer_id``) is the original and every other member is a likely duplicate.
"""

from __future__ import annotations

import re
from typing import Iterable

import numpy as np
import pandas as pd

from .config import DEFAULT_QUALITY, QualityConfig

__all__ = ["normalize_company_name", "normalize_domain", "likely_duplicate_accounts", "DOMAIN_RE"]


_LEGAL_SUFFIXES = ("inc", "incorporated", "ltd", "limited", "llc", "llp", "lp", "gmbh", "corp",
                   "corporation", "co", "company", "plc", "sa", "sas", "sarl", "srl", "spa", "ag",
                   "kg", "bv", "nv", "ab", "as", "oy", "pty", "pte", "kk")


_SUFFIX_RE = re.compile(r"(?:\s+(?:" + "|".join(_LEGAL_SUFFIXES) + r"))+\s*$")


DOMAIN_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$")


def normalize_company_name(names: pd.Series) -> pd.Series:
    """Company names reduced to a matching key.

    Lowercase, accents, dots and apostrophes removed, every other non-alphanumeric character turned
    into a space, legal
    suffixes (Inc, Ltd, LLC, GmbH, Corp, Co, SA, AG, PLC, BV ...) dropped from the end, spaces
    collapsed. Blank names give ``<NA>``.

    >>> normalize_company_name(pd.Series(["ACME Inc.", "Acme, Inc", "acme GmbH & Co. KG", "Bolt S.A.", " "])).tolist()
    ['acme', 'acme', 'acme', 'bolt', <NA>]
    """

    text = names.astype("string").str.normalize("NFKD").str.replace(r"[\u0300-\u036f]", "", regex=True)
    text = text.str.lower().str.replace(r"[.']", "", regex=True)  # S.A. -> sa, O'Neil -> oneil
    text = text.str.replace(r"[^0-9a-z]+", " ", regex=True).str.strip()
    stripped = (" " + text).str.replace(_SUFFIX_RE, "", regex=True).str.strip()
    text = stripped.where(stripped != "", text)  # a name that is only a suffix keeps it
    return text.where(text != "", pd.NA).astype("string")


def normalize_domain(domains: pd.Series, *, ignore: Iterable[str] = DEFAULT_QUALITY.free_mail_domains
                     ) -> pd.Series:
    """Web domains reduced to a matching key (lowercase; no scheme, ``www.``, port, path or e-mail
    user part); free-mail domains in ``ignore`` and blanks give ``<NA>``.

    >>> normalize_domain(pd.Series(["https://www.Acme.com/about", "sales@acme.com", "gmail.com"])).tolist()
    ['acme.com', 'acme.com', <NA>]
    """
    text = domains.astype("string").str.strip().str.lower()
    text = text.str.replace(r"^[a-z][a-z0-9+.-]*://", "", regex=True)
    text = text.str.replace(r"^[^@/]*@", "", regex=True)
    text = text.str.replace(r"[/?#:].*$", "", regex=True)
    text = text.str.replace(r"^www\d?\.", "", regex=True).str.strip(".")
    text = text.where(~text.isin(list(ignore)) & (text != ""), pd.NA)
    return text.astype("string")


def likely_duplicate_accounts(customers: pd.DataFrame, *,
                              config: QualityConfig = DEFAULT_QUALITY) -> pd.DataFrame:
    """Accounts that are likely duplicates of an older account.

    Accounts sharing a normalised name (:func:`normalize_company_name`) or a normalised domain
    (:func:`normalize_domain`) are linked; linked accounts form a cluster. The oldest account of a
    cluster (``created_at``, then ``customer_id``) is the original; every other member is returned.

    Returns
    -------
    DataFrame
        One row per duplicate, indexed like ``customers``: ``customer_id``, ``name``,
        ``duplicate_of`` (the original's id), ``duplicate_of_name`` and ``matched_on``
        (``name``, ``domain``, ``name+domain``, or ``linked`` when only a chain of matches links it).

    Examples
    --------
    >>> c = pd.DataFrame({"customer_id": ["a", "b", "c"], "name": ["Acme Inc", "ACME", "Bolt"],
    ...                   "domain": ["acme.com", None, "bolt.io"]})
    >>> likely_duplicate_accounts(c)[["customer_id", "duplicate_of", "matched_on"]].values.tolist()
    [['b', 'a', 'name']]
    """
    cols = ["customer_id", "name", "duplicate_of", "duplicate_of_name", "matched_on"]
    n = len(customers)
    if n == 0 or "customer_id" not in customers.columns:
        return pd.DataFrame(columns=cols)
    name_key = (normalize_company_name(customers["name"]) if "name" in customers.columns
                else pd.Series(pd.NA, index=customers.index, dtype="string"))
    dom_key = (normalize_domain(customers["domain"], ignore=config.free_mail_domains)
               if "domain" in customers.columns
               else pd.Series(pd.NA, index=customers.index, dtype="string"))
    created = (customers["created_at"] if "created_at" in customers.columns
               else pd.Series(pd.NaT, index=customers.index, dtype="datetime64[ns]"))
    order = pd.DataFrame({"created": created.to_numpy(), "id": customers["customer_id"].astype(str).to_numpy(),
                          "pos": np.arange(n)}).sort_values(["created", "id", "pos"], na_position="last")
    rank = np.empty(n, dtype=int)
    rank[order["pos"].to_numpy()] = np.arange(n)

    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for key in (name_key, dom_key):
        have = key.notna().to_numpy()
        pos = pd.Series(np.arange(n)[have])
        first = pos.groupby(key.to_numpy()[have].astype(object)).transform("min").to_numpy()
        for a, b in zip(pos.to_numpy()[first != pos.to_numpy()], first[first != pos.to_numpy()]):
            ra, rb = find(int(a)), find(int(b))
            if ra != rb:
                # the member of lowest rank becomes the root, so the root is the original
                if rank[ra] <= rank[rb]:
                    parent[rb] = ra
                else:
                    parent[ra] = rb
    roots = np.array([find(i) for i in range(n)])
    # the original is the member of lowest rank
    best: dict[int, int] = {}
    for i in range(n):
        r = roots[i]
        if r not in best or rank[i] < rank[best[r]]:
            best[r] = i
    original = np.array([best[roots[i]] for i in range(n)])
    dup = original != np.arange(n)
    if not dup.any():
        return pd.DataFrame(columns=cols)
    idx = np.flatnonzero(dup)
    orig = original[idx]
    nk, dk = name_key.to_numpy(), dom_key.to_numpy()

    def same(keys, i, j) -> bool:
        a, b = keys[i], keys[j]
        return not (a is pd.NA or b is pd.NA) and a == b

    matched = []
    for i, j in zip(idx, orig):
        by_name, by_dom = same(nk, i, j), same(dk, i, j)
        matched.append("name+domain" if by_name and by_dom else "name" if by_name
                       else "domain" if by_dom else "linked")
    names = customers["name"] if "name" in customers.columns else pd.Series(pd.NA, index=customers.index)
    ids = customers["customer_id"]
    return pd.DataFrame({
        "customer_id": ids.iloc[idx].to_numpy(),
        "name": names.iloc[idx].to_numpy(),
        "duplicate_of": ids.iloc[orig].to_numpy(),
        "duplicate_of_name": names.iloc[orig].to_numpy(),
        "matched_on": matched,
    }, index=customers.index[idx])
