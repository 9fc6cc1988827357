"""The inbound push API: partners push documents to the hub, which writes them to the ledger."""
