# One image for every process type; docker-compose.yml picks the command.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY common ./common
COPY api ./api
COPY workers ./workers
COPY streamer ./streamer
COPY hookstream ./hookstream
COPY domains ./domains
RUN pip install --no-cache-dir .
USER nobody
