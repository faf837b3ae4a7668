"""Client tests use the gateway test fixtures: a fake model and the embedded gateway on a free port."""

from tests.gateway.conftest import fake_model, gateway  # noqa: F401 - fixtures
