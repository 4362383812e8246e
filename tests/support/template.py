"""template.yaml as the single source of the table's and functions' definitions: the local stack's reader."""

from credits_local.template import (
    ROOT,
    create_table_kwargs,
    function_dirs,
    http_routes,
    resources,
    template,
    ttl_attribute,
)

__all__ = [
    "ROOT",
    "create_table_kwargs",
    "function_dirs",
    "http_routes",
    "resources",
    "template",
    "ttl_attribute",
]
