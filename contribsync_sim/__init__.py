"""Dev-only GitHub simulator: dataset, GraphQL over the public schema, REST (not in the layer)."""
