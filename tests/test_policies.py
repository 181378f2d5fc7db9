"""Metric policies: presets, validation, derivation, registration."""

from __future__ import annotations

import pytest

import revops_kit as rk
from revops_kit.policies import PRESETS, MetricPolicy


def test_default_policy_is_documented_field_by_field():
    doc = MetricPolicy.__doc__
    for name in rk.DEFAULT_POLICY.to_dict():
        assert f"{name} :" in doc, f"MetricPolicy docstring does not document {name}"


def test_default_values():
    p = rk.DEFAULT_POLICY
    assert (p.reporting_currency, p.fx_mode, p.fx_in_movements, p.churn_denominator,
            p.churn_exclude_new_in_period, p.revenue_retention_basis, p.arpa_basis,
            p.renewal_basis, p.renewal_min_term_months, p.reactivation_window_months) == \
        ("USD", "period", False, "start", False, "cohort", "end", "contracts", 12, None)
    # fields other modules read keep their names and defaults
    assert (p.win_rate_basis, p.sales_cycle_basis, p.cac_allocation) == \
        ("count", "won", "spend_share")


def test_presets():
    dbt = rk.get_policy("dbt_mrr_playbook")
    assert dbt.mrr_classification == "dbt_mrr_playbook" and dbt.fx_in_movements is True
    cm = rk.get_policy("chartmogul")
    assert cm.churn_exclude_new_in_period is True and cm.revenue_retention_basis == "movements"
    assert set(PRESETS) >= {"default", "dbt_mrr_playbook", "chartmogul"}
    for name, policy in PRESETS.items():
        assert policy.name == name


@pytest.mark.parametrize("field,value", [
    ("fx_mode", "daily"), ("churn_denominator", "end"), ("revenue_retention_basis", "x"),
    ("arpa_basis", "median"), ("renewal_basis", "crm"), ("contract_value_source", "x"),
    ("opportunity_amount", "monthly"), ("win_rate_basis", "value"),
])
def test_invalid_choice_names_field_and_allowed_values(field, value):
    with pytest.raises(rk.PolicyError, match=f"{field} must be one of .* got '{value}'"):
        rk.DEFAULT_POLICY.replace(**{field: value})


@pytest.mark.parametrize("field,value", [
    ("reactivation_window_months", -1), ("reactivation_window_months", 1.5),
    ("renewal_min_term_months", 0), ("churn_exclude_new_in_period", "yes"),
    ("fx_in_movements", 1),
])
def test_invalid_numbers_and_flags(field, value):
    with pytest.raises(rk.PolicyError, match=field):
        rk.DEFAULT_POLICY.replace(**{field: value})


def test_policies_are_frozen_and_replace_copies():
    p = rk.DEFAULT_POLICY.replace(churn_denominator="average")
    assert p.churn_denominator == "average" and rk.DEFAULT_POLICY.churn_denominator == "start"
    with pytest.raises(Exception):
        p.churn_denominator = "start"  # type: ignore[misc]


def test_get_policy_and_register():
    assert rk.get_policy(None) is rk.DEFAULT_POLICY
    with pytest.raises(rk.PolicyError, match="unknown policy 'nope'.*chartmogul"):
        rk.get_policy("nope")
    custom = rk.register_policy(MetricPolicy(name="_test_avg", churn_denominator="average"))
    try:
        assert rk.get_policy("_test_avg") is custom
    finally:
        PRESETS.pop("_test_avg")
