"""Dev-only tools (template generation); not part of the Lambda layer."""
