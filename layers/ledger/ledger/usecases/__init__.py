"""The ledger's operations: one module per use case."""
