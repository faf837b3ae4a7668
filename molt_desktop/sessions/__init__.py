"""The session store: OpenClaw file-era sessions.json + JSONL transcripts, and a search index.

Knows nothing of the gateway or the agent.
"""
