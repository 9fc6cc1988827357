CREATE DATABASE product OWNER airflow;
