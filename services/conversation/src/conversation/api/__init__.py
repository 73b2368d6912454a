"""The conversation service's admin API, one module per resource."""
