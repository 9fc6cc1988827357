"""The operations console: a page in Airflow's UI and its backend on the api-server."""
