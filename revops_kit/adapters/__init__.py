"""Source adapters: CRM and billing exports, declarative mappings and warehouses → canonical tables.

=====================  =====================================================================
module                 reads
=====================  =====================================================================
``salesforce``         Account, Opportunity, OpportunityHistory and Lead exports
``hubspot``            companies, deals (with the pipeline definition), deal stage history
``stripe``             customers, subscriptions + subscription items (→ MRR), invoices
``mapping``            any other files, through a declarative YAML column mapping
``warehouse``          DuckDB files and SQLAlchemy URLs (tables or views), with time windows
                       pushed down to the database
=====================  =====================================================================

Each export adapter has ``to_frames(folder)``, returning canonical frames (adapters never build a
dataset: :mod:`revops_kit.io` alone does, so the layers do not import each other in a circle);
``rk.load_export("salesforce", folder)`` parses and validates them into a
:class:`~revops_kit.io.RevOpsData`. Each module docstring lists the files and columns it expects. ``rk.load`` uses ``mapping`` and ``warehouse`` for you (``rk.load(url)``,
``rk.load(folder, mapping="mapping.yaml")``). Combine a CRM and a billing system with
:func:`revops_kit.io.from_frames`, e.g. ``rk.from_frames({**salesforce.to_frames(crm_dir),
**{k: v for k, v in stripe.to_frames(billing_dir, id_field="metadata.crm_id").items()
if k != "customers"}})``.
"""

from __future__ import annotations

from . import hubspot, mapping, salesforce, stripe, warehouse
from ._common import AdapterError
from .mapping import MappingError, load_mapping
from .warehouse import write_tables

__all__ = ["salesforce", "hubspot", "stripe", "mapping", "warehouse", "AdapterError", "MappingError",
           "load_mapping", "write_tables"]
