# The project's own image: `rackpanel exporter` and `rackpanel writer` in docker-compose.yml.
FROM python:3.11-slim
WORKDIR /src
COPY pyproject.toml README.md ./
COPY settings settings
COPY contract contract
COPY topology topology
COPY simulator simulator
COPY exporter exporter
COPY lcd_writer lcd_writer
COPY prometheus prometheus
COPY dashboards dashboards
COPY deploy deploy
COPY rackpanel rackpanel
RUN pip install --no-cache-dir . && rm -rf /src
WORKDIR /
ENTRYPOINT ["rackpanel"]
