"""ERP channel jobs: DAGs that post the ledger's due documents of one client to its ERP."""
