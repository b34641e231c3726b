# The project's own Docling MCP server (services/mcp_server): docling and torch, apart from the services.
FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 HF_HUB_OFFLINE=1
WORKDIR /app
COPY requirements/mcp-server.txt requirements/mcp-server.txt
RUN pip install --no-cache-dir --upgrade pip \
 && pip install --no-cache-dir --extra-index-url https://download.pytorch.org/whl/cpu -r requirements/mcp-server.txt
COPY services/__init__.py services/__init__.py
COPY services/mcp_server services/mcp_server
# CACHE_DIR and the uploads it reads, owned by the user it runs as (a new named volume mounted on
# them takes this owner); HOME there too: nobody's own (/nonexistent) cannot hold caches
RUN install -d -o nobody -g nogroup /data /data/uploads /data/mcp-cache
ENV HOME=/data
USER nobody:nogroup
EXPOSE 8000
CMD ["python", "-m", "services.mcp_server", "--transport", "streamable-http", "--host", "0.0.0.0", "--port", "8000"]
