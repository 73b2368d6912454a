"""payments service."""
