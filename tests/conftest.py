"""Shared fixtures: a tiny valid dataset written as CSV, the sample, and the shared-data marker."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"


def pytest_collection_modifyitems(config, items):
    """Skip ``shared_data`` tests with a clear reason when ../shared/data is absent."""
    if SHARED_DATA.exists():
        return
    skip = pytest.mark.skip(reason=f"reference data not found at {SHARED_DATA} (only CI and the "
                                   "team's machines have ../shared beside the clone)")
    for item in items:
        if "shared_data" in item.keywords:
            item.add_marker(skip)


TINY = {
    "customers": """customer_id,name,segment,region,created_at
c1,Acme,SMB,NA,2024-01-01
c2,Globex,Enterprise,EMEA,2024-01-15
c3,Initech,SMB,NA,2024-02-01
""",
    "subscriptions": """subscription_id,customer_id,start_date,end_date,mrr,currency,product
s1,c1,2024-01-01,2024-03-01,100,USD,Core
s2,c1,2024-03-01,,150,USD,Core
s3,c2,2024-02-01,2024-05-01,1000,EUR,Core
s4,c3,2024-02-01,,50.5,USD,Core
""",
    "fx_rates": """month,currency,rate
2024-01-01,USD,1
2024-02-01,USD,1
2024-03-01,USD,1
2024-04-01,USD,1
2024-05-01,USD,1
2024-06-01,USD,1
2024-01-01,EUR,1.1
2024-02-01,EUR,1.1
2024-03-01,EUR,1.2
2024-04-01,EUR,1.2
2024-05-01,EUR,1.2
2024-06-01,EUR,1.2
""",
}


def write_tables(folder: Path, tables: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in tables.items():
        (folder / f"{name}.csv").write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def tiny_dir(tmp_path: Path) -> Path:
    """A small valid dataset folder (customers, subscriptions, fx_rates)."""
    return write_tables(tmp_path / "tiny", TINY)


@pytest.fixture(scope="session")
def sample():
    """The committed sample dataset, loaded once per test session."""
    import revops_kit as rk

    return rk.load_sample()


@pytest.fixture
def frozen_frames():
    """Assert a function does not mutate its input frames: ``with frozen_frames(df1, df2): ...``."""
    from contextlib import contextmanager

    @contextmanager
    def check(*frames: pd.DataFrame):
        copies = [f.copy(deep=True) for f in frames]
        yield
        for before, after in zip(copies, frames):
            pd.testing.assert_frame_equal(before, after)

    return check
