"""The payments service's admin API, one module per resource."""
