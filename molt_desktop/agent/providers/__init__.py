"""Model providers: streaming adapters for the Anthropic Messages and OpenAI chat APIs."""
