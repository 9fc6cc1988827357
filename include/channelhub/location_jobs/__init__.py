"""The location jobs of marketplace channels (INVEX, order sync) and the channel's product sync, as DAGs."""
