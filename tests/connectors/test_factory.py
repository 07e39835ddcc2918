"""`build_source` picks the backend from configuration and refuses bad configuration."""

from __future__ import annotations

import pytest

import connectors
from connectors import (
    InMemoryComplaintSource,
    RestComplaintSource,
    RestLicensingSource,
    SqlPopulationSource,
    build_source,
)


async def test_each_source_gets_its_configured_backend(sqlite_url) -> None:
    population = build_source(
        "population",
        {
            "backend": "sql",
            "url": sqlite_url,
            "timeout": 2.0,
            "mapping": {"columns": {"full_name": "NAMA_LGKP"}},
        },
    )
    licensing = build_source(
        "licensing",
        {
            "backend": "rest",
            "url": "http://127.0.0.1:9",
            "api_key": "k",
            "max_connections": 4,
        },
    )
    complaints = build_source(
        "complaints", {"backend": "rest", "url": "http://127.0.0.1:9", "api_key": "k"}
    )
    memory = build_source("complaints", {"backend": "memory"})
    try:
        assert isinstance(population, SqlPopulationSource)
        assert isinstance(licensing, RestLicensingSource)
        assert isinstance(complaints, RestComplaintSource)
        assert isinstance(memory, InMemoryComplaintSource)
        assert [s.source_id for s in (population, licensing, complaints)] == [
            "population",
            "licensing",
            "complaints",
        ]
        await population.check()
    finally:
        for source in (population, licensing, complaints, memory):
            await source.aclose()


@pytest.mark.parametrize(
    ("source_id", "config", "message"),
    [
        pytest.param(
            "parking", {"backend": "memory"}, "unknown source 'parking'", id="source"
        ),
        pytest.param(
            "population",
            {"backend": "rest", "url": "http://x"},
            "population.backend: 'rest' is not one of sql, memory",
            id="backend",
        ),
        pytest.param("population", {}, "backend: None", id="no-backend"),
        pytest.param(
            "licensing",
            {"backend": "rest", "url": "http://x"},
            "licensing.api_key is required",
            id="api-key",
        ),
        pytest.param(
            "complaints",
            {"backend": "rest", "api_key": "k"},
            "complaints.url is required",
            id="url",
        ),
        pytest.param(
            "population",
            {"backend": "sql", "url": "mysql://x/y"},
            "unsupported database 'mysql'",
            id="database",
        ),
        pytest.param(
            "population",
            {"backend": "sql", "url": "sqlite:///x", "mapping": {"t": 1}},
            "unknown key",
            id="mapping",
        ),
        pytest.param(
            "population",
            {"backend": "sql", "url": "sqlite:///x", "timout": 1},
            "unknown key.*timout",
            id="typo",
        ),
        pytest.param(
            "licensing",
            {"backend": "rest", "url": "http://x", "api_key": "k", "timeout": -1},
            "timeout must be positive",
            id="timeout",
        ),
        pytest.param("population", "sql", "must be a mapping", id="not-a-mapping"),
    ],
)
def test_bad_configuration_is_a_clear_value_error(source_id, config, message) -> None:
    with pytest.raises(ValueError, match=message):
        build_source(source_id, config)


def test_the_package_exports_exactly_its_public_names() -> None:
    exported = set(connectors.__all__)
    assert len(exported) == len(connectors.__all__)
    for name in exported:
        assert getattr(connectors, name) is not None
    assert {
        "build_source",
        "SqlPopulationSource",
        "RestLicensingSource",
        "RestComplaintSource",
        "InMemoryPopulationSource",
        "ConnectorError",
        "PopulationSource",
    } <= exported
    assert not any(name.startswith("_") for name in exported)
