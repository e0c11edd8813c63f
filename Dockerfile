# One image for every hookstream binary (compose.yaml picks one per service by `command`).
# Configuration is only HOOKSTREAM_* variables; inside a container the API must listen on
# HOOKSTREAM_API_LISTEN=0.0.0.0:8080 (compose.yaml sets it).

FROM debian:12 AS build
# The build subset of scripts/deps.txt (tests/deploy checks that each one is listed there). GTest
# is here only because the top-level CMakeLists.txt requires it at configure time.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential \
      cmake \
      ninja-build \
      pkg-config \
      libboost1.74-dev \
      libboost-system1.74-dev \
      libssl-dev \
      librdkafka-dev \
      libhiredis-dev \
      libjemalloc-dev \
      nlohmann-json3-dev \
      libsimdjson-dev \
      libspdlog-dev \
      libfmt-dev \
      libcli11-dev \
      prometheus-cpp-dev \
      libgtest-dev \
      libgmock-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# Every binary: the services, hookstream-produce for publishing from the container, and the
# development tools hookstream-sink (a receiver that verifies signatures) and hookstream-kafka-dev.
RUN cmake -S . -B build/image -G Ninja -DCMAKE_BUILD_TYPE=Release \
 && cmake --build build/image --target hookstream-api hookstream-dispatcher hookstream-produce \
      hookstream-sink hookstream-kafka-dev \
 && strip build/image/bin/hookstream-api build/image/bin/hookstream-dispatcher \
      build/image/bin/hookstream-produce build/image/bin/hookstream-sink \
      build/image/bin/hookstream-kafka-dev

FROM debian:12-slim
# The shared libraries the binaries link (tests/deploy compares this list with `ldd`), plus CA
# certificates for HTTPS deliveries. libc, libstdc++ and libgcc are already in debian:12-slim.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates \
      libfmt9 \
      libhiredis0.14 \
      libjemalloc2 \
      libprometheus-cpp-core1.0 \
      librdkafka1 \
      libsimdjson14 \
      libspdlog1.10 \
      libssl3 \
 && rm -rf /var/lib/apt/lists/*
RUN useradd --system --uid 10001 --user-group --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin hookstream
COPY --from=build /src/build/image/bin/hookstream-api /src/build/image/bin/hookstream-dispatcher \
     /src/build/image/bin/hookstream-produce /src/build/image/bin/hookstream-sink \
     /src/build/image/bin/hookstream-kafka-dev /usr/local/bin/
USER 10001:10001
EXPOSE 8080
CMD ["hookstream-api"]
