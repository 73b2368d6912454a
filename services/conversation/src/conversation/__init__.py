"""conversation service."""
