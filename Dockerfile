# The hub's Airflow image: the official image plus the pinned requirements and the hub package.
# docker-compose.yaml builds it once and every Airflow service runs it. The hub's code is compiled
# to bytecode here (pip compiles the packages): each task process imports it at start.
FROM apache/airflow:3.3.2-python3.11
COPY --chown=airflow:root requirements.txt constraints.txt pyproject.toml /opt/channelhub/
COPY --chown=airflow:root include /opt/channelhub/include
RUN pip install --no-cache-dir -r /opt/channelhub/requirements.txt -c /opt/channelhub/constraints.txt \
 && pip install --no-cache-dir --no-deps -e /opt/channelhub \
 && python -m compileall -q /opt/channelhub/include
