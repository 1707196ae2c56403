"""Domain services: one module per concern, each a function ``(data, ctx) -> result``.

The runtime imports only the module a function needs (``catalog.Event.service``), so a handler
never pays for another's imports.
"""
