# The four services (api, ingest, converter, progress): one image, the command picks the service.
FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 BIND_HOST=0.0.0.0
WORKDIR /app
COPY requirements/services.txt requirements/tokenizer.txt requirements/
RUN pip install --no-cache-dir --upgrade pip && pip install --no-cache-dir -r requirements/services.txt \
    && pip install --no-cache-dir --no-deps -r requirements/tokenizer.txt
COPY pyproject.toml README.md ./
COPY contracts contracts
COPY runtime runtime
COPY services services
COPY clients clients
COPY devstack devstack
RUN pip install --no-cache-dir --no-deps -e .
# ingest writes uploads here: a new named volume mounted on it takes this owner
RUN install -d -o nobody -g nogroup /data /data/uploads
USER nobody:nogroup
CMD ["python", "-m", "services.api"]
