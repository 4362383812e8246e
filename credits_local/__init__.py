"""The local stack: template.yaml's functions, routes, tables, bus, streams and schedules, without Docker."""

DEFAULT_PORT = 3000  # the gateway's
STACK_NAME = "credits-local"  # the prefix of the local resource names
