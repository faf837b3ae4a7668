"""Tests of the health monitor: probes, rules, alerts and sinks."""
