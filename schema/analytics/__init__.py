"""Aggregates the public and the office read: service metrics, the satisfaction index,
performance reports."""
