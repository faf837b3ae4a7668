"""The agent runtime: runs chat turns against model providers.

runtime.py (AgentRuntime: accepting, queueing, running, fallbacks), runs.py (run state,
coalescing, queues), recorder.py (what a finished run writes and emits), events.py (event
payloads, protocol-3 view), context.py (user message, attachments, history that fits),
settings.py, usage.py, and providers/ (SDK adapters, error mapping, the registry).
"""
