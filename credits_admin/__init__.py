"""credits-admin: operators' commands that read (and later repair) a ledger's table directly."""
