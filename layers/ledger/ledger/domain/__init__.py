"""Pure ledger rules: amounts, grants and their burn order, holds, changes. No AWS here."""
