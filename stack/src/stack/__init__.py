"""Starts the whole system: embedded in one process, or one process per service."""
