"""The local stack: template.yaml's functions, routes, tables, bus, streams and schedules, without Docker."""
