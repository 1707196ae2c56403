"""Capture: GitHub data into the contributor.info tables (rows, set-based store, repositories, sync logs)."""
