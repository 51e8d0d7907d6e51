from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

with warnings.catch_warnings():
    # Starlette 1.x deprecates httpx under its TestClient in favour of httpx2, which is not what
    # FastAPI's TestClient ships with yet; the client works, so this one warning is ignored here.
    warnings.filterwarnings("ignore", message=".*httpx2.*")
    from fastapi.testclient import TestClient

from backtriage.service import Settings, Store, Trust, create_app
from tests.service import keys


@pytest.fixture()
def db_path(tmp_path: Path) -> str:
    return str(tmp_path / "bt.sqlite3")


@pytest.fixture()
def insecure(db_path: str) -> Iterator[TestClient]:
    """A client for an app without authentication (most protocol tests)."""
    store = Store(db_path)
    with TestClient(create_app(Settings(db=db_path, insecure_no_auth=True), store=store)) as c:
        yield c
    store.close()


@pytest.fixture()
def secure(db_path: str, tmp_path: Path) -> Iterator[TestClient]:
    jwks = keys.write_jwks(tmp_path / "jwks.json")
    settings = Settings(db=db_path, trust=(Trust(keys.ISSUER, str(jwks)),))
    store = Store(db_path)
    with TestClient(create_app(settings, store=store)) as c:
        yield c
    store.close()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    from tests.service import pg

    if pg.binaries() is None:
        pytest.skip("PostgreSQL server binaries not installed (apt-get install postgresql)")
    with pg.cluster() as url:
        yield url


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "postgres: needs a PostgreSQL server (started by the test set-up)"
    )
