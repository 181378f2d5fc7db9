"""Loading and validation, including every bad-input case of the foundation issue."""

from __future__ import annotations

import pandas as pd
import pytest

import revops_kit as rk
from revops_kit.errors import DataNotFoundError, SchemaError

from conftest import TINY, write_tables


def test_load_parses_types_and_keeps_every_row(tiny_dir):
    data = rk.load(tiny_dir)
    subs = data.subscriptions
    assert len(subs) == 4
    assert pd.api.types.is_datetime64_any_dtype(subs["start_date"])
    assert subs["end_date"].isna().sum() == 2
    assert subs["mrr"].tolist() == [100.0, 150.0, 1000.0, 50.5]
    assert subs["customer_id"].tolist() == ["c1", "c1", "c2", "c3"]
    assert data.invoices is None and data.opportunities is None
    assert data.customers.loc[0, "region"] == "NA"  # North America is not a missing value


def test_ids_stay_strings_with_leading_zeros(tmp_path):
    tables = dict(TINY)
    tables["customers"] = "customer_id,name\n007,Bond\n"
    tables["subscriptions"] = "subscription_id,customer_id,start_date,end_date,mrr\n1,007,2024-01-01,,10\n"
    data = rk.load(write_tables(tmp_path / "d", tables))
    assert data.subscriptions["customer_id"].tolist() == ["007"]


def test_money_strings_are_parsed_and_reported(tmp_path):
    tables = dict(TINY)
    tables["subscriptions"] = TINY["subscriptions"].replace(",100,USD", ',"$1,100.00",USD')
    data = rk.load(write_tables(tmp_path / "d", tables))
    assert data.subscriptions.loc[0, "mrr"] == 1100.0
    assert any("subscriptions.mrr" in n for n in data.notes)


def test_unknown_files_are_reported(tiny_dir):
    (tiny_dir / "deals.csv").write_text("a\n1\n")
    data = rk.load(tiny_dir)
    assert any("deals.csv" in n for n in data.notes)


def test_missing_folder():
    with pytest.raises(DataNotFoundError, match="does not exist"):
        rk.load("/nonexistent/folder")


def _fails(tmp_path, table, text, *expected):
    tables = dict(TINY)
    tables[table] = text
    with pytest.raises(SchemaError) as info:
        rk.load(write_tables(tmp_path / "bad", tables))
    message = str(info.value)
    for part in expected:
        assert part in message, f"{part!r} not in:\n{message}"
    return info.value


def test_missing_required_column(tmp_path):
    text = TINY["subscriptions"].replace("mrr,", "amount,")
    _fails(tmp_path, "subscriptions", text, "subscriptions", "mrr", "required_column_present")


def test_text_in_money_column(tmp_path):
    text = TINY["subscriptions"].replace(",50.5,", ",fifty,")
    err = _fails(tmp_path, "subscriptions", text, "subscriptions", "mrr", "parse_money", "4 ('fifty')")
    assert err.failures.iloc[0]["rows"] == [4]


def test_negative_mrr(tmp_path):
    text = TINY["subscriptions"].replace(",150,", ",-150,")
    _fails(tmp_path, "subscriptions", text, "subscriptions", "mrr", "greater_than_or_equal_to(0)", "2 (-150")


def test_end_before_start(tmp_path):
    text = TINY["subscriptions"].replace("s3,c2,2024-02-01,2024-05-01", "s3,c2,2024-02-01,2024-01-01")
    _fails(tmp_path, "subscriptions", text, "subscriptions", "end_date", "end_date_after_start_date", "3 (2024-01-01)")


def test_duplicate_keys(tmp_path):
    text = TINY["subscriptions"].replace("s4,", "s1,")
    _fails(tmp_path, "subscriptions", text, "subscriptions", "subscription_id", "unique", "1 ('s1')", "4 ('s1')")


def test_duplicate_composite_key(tmp_path):
    text = TINY["fx_rates"] + "2024-01-01,EUR,1.3\n"
    _fails(tmp_path, "fx_rates", text, "fx_rates", "month+currency", "unique_key")


def test_orphan_customer_ids(tmp_path):
    text = TINY["subscriptions"] + "s5,c99,2024-01-01,,10,USD,Core\n"
    _fails(tmp_path, "subscriptions", text, "subscriptions", "customer_id", "customer_exists", "5 ('c99')")


def test_empty_file_without_header(tmp_path):
    _fails(tmp_path, "subscriptions", "", "table subscriptions", "empty (no header row)")


def test_all_failures_reported_at_once(tmp_path):
    text = TINY["subscriptions"].replace(",150,", ",-150,").replace("s4,c3", "s4,c77")
    err = _fails(tmp_path, "subscriptions", text, "greater_than_or_equal_to(0)", "customer_exists")
    assert len(err.failures) == 2


def test_at_most_five_rows_shown(tmp_path):
    rows = "".join(f"x{i},c1,2024-01-01,,-1,USD,Core\n" for i in range(9))
    err = _fails(tmp_path, "subscriptions", TINY["subscriptions"] + rows, "and 4 more")
    assert len(err.failures.iloc[0]["rows"]) == 5


def test_period_outside_data(tiny_dir):
    data = rk.load(tiny_dir)
    with pytest.raises(rk.PeriodError, match="outside the data"):
        data.check_period("2030-Q1")
    assert str(data.check_period("2024-Q1")) == "2024-Q1"


def test_from_frames_does_not_mutate_inputs(frozen_frames):
    subs = pd.read_csv(pd.io.common.StringIO(TINY["subscriptions"]), dtype=str)
    cust = pd.read_csv(pd.io.common.StringIO(TINY["customers"]), dtype=str)
    with frozen_frames(subs, cust):
        data = rk.from_frames({"subscriptions": subs, "customers": cust})
    assert data.subscriptions["mrr"].sum() == 1300.5


def test_revopsdata_fields_match_schema():
    from revops_kit.io import _field_names

    assert _field_names() == list(rk.schema.TABLE_NAMES)
    assert len(rk.schema.TABLES) == 14


def test_sample_is_valid(sample):
    assert set(sample.tables()) == set(rk.schema.TABLE_NAMES)
    assert sample.validation_report().empty
    assert sample.customers["customer_id"].nunique() >= 2000
    first, last = sample.date_range()
    assert last >= pd.Timestamp("2025-12-01")
