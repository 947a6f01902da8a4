# sipregd container image: a build stage with the -dev packages, a runtime stage with only
# the shared libraries the two binaries load. Usage: docs/operations.md, section "Docker".
#
#   docker build -t sipregd .                 (podman: scripts/container-build.sh build . sipregd)
#   docker run -d --name sipregd --network host \
#     -v /etc/sipregd/sipregd.yaml:/etc/sipregd/sipregd.yaml:ro \
#     -v /etc/sipregd/trunk-a.secret:/run/secrets/trunk-a:ro sipregd
ARG BASE=debian:bookworm-slim

FROM ${BASE} AS build
ARG JOBS=2
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      g++ make cmake pkg-config binutils \
      libuv1-dev libssl-dev libyaml-dev libspdlog-dev libsystemd-dev \
      libc-ares-dev libcli11-dev nlohmann-json3-dev libhttp-parser-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# -O2, as Debian builds its packages: GCC 12 at -O3 raises false -Wrestrict warnings,
# which the project's -Werror turns into errors.
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O2 -DNDEBUG" \
      -DSIPREG_BUILD_TESTS=OFF -DSIPREG_BUILD_BENCH=OFF \
 && cmake --build /build --target sipregd sipregctl -j"${JOBS}" \
 && mkdir -p /out/bin \
 && for b in sipregd sipregctl; do cp "$(find /build -type f -perm -u+x -name "$b" | head -n1)" /out/bin/; done \
 && strip --strip-unneeded /out/bin/sipregd /out/bin/sipregctl \
 && scripts/runtime-packages.sh /out/bin/sipregd /out/bin/sipregctl > /out/runtime-packages \
 && cat /out/runtime-packages

FROM ${BASE}
# The packages the build stage found with ldd (no -dev package among them), plus the CA
# bundle that TLS verification uses by default.
COPY --from=build /out/runtime-packages /tmp/runtime-packages
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates $(cat /tmp/runtime-packages) \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt /var/log/dpkg.log /tmp/runtime-packages \
 && groupadd --system --gid 10001 sipregd \
 && useradd --system --uid 10001 --gid 10001 --home-dir /nonexistent --no-create-home \
      --shell /usr/sbin/nologin sipregd \
 && mkdir -p /etc/sipregd /run/sipregd /run/secrets \
 && chown sipregd:sipregd /run/sipregd \
 && chmod 0750 /run/sipregd
COPY --from=build /out/bin/sipregd /out/bin/sipregctl /usr/local/bin/
COPY config/sipregd.example.yaml /usr/share/doc/sipregd/sipregd.example.yaml

# password_file values without a '/' name files in this folder, the one Docker secrets and
# Compose mount; under systemd the same configuration reads LoadCredential= files instead.
ENV CREDENTIALS_DIRECTORY=/run/secrets
USER 10001:10001
WORKDIR /etc/sipregd
# The daemon unregisters every line on SIGTERM (within shutdown_timeout) and exits 0; give
# `docker stop` more than that before it kills: docker stop -t 15.
STOPSIGNAL SIGTERM
# Healthy while every line is registered (sipregctl talks to /run/sipregd/control.sock).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD ["sipregctl", "check"]
ENTRYPOINT ["sipregd"]
CMD ["-c", "/etc/sipregd/sipregd.yaml"]
