"""DynamoDB adapter: the single-table schema, conditional writes, reads."""
