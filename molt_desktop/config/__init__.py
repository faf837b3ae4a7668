"""Configuration: the pydantic schema, the JSON5 loader, secrets and hot reload."""
