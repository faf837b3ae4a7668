"""The agent runtime: runs chat turns against model providers."""
