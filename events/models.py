"""Media events, their lifecycle and forecast: built on the accounts' tenancy (see accounts.tenancy)."""
