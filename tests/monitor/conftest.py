"""Monitor tests use the gateway test fixtures (a fake model) and the D-Bus notification fixtures."""

from tests.gateway.conftest import fake_model  # noqa: F401 - a fixture
