"""The DAG of an SFTP tenant project: wait, load, archive per table; then report."""
