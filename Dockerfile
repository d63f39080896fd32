# syntax=docker/dockerfile:1
# Pokor's container image: a static binary (no cgo: SQLite is modernc.org/sqlite) on distroless,
# running as a non-root user. Without configuration it serves SQLite in the /data volume; set
# POKOR_DATABASE_URL and POKOR_REDIS_URL to run several instances (docs/deploy.md).
#
#   docker build -t pokor --build-arg VERSION=$(git describe --tags --always) .
#   docker run -p 8080:8080 -v pokor-data:/data pokor

ARG GO_VERSION=1.26

FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
# Modules first: this layer is cached until go.mod or go.sum change.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/pokor ./cmd/pokor \
    && mkdir -p /out/data

# distroless/static: CA certificates (trackers and chat APIs over HTTPS), tzdata and /etc/passwd
# with the nonroot user (65532), and nothing else: no shell, no package manager.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/pokor /pokor
# `pokor discord register` reads the slash command from this path, relative to the working
# directory (/).
COPY --from=build /src/manifests/discord /manifests/discord
COPY --from=build --chown=65532:65532 /out/data /data
ENV POKOR_ADDR=:8080 \
    POKOR_DATABASE_URL=sqlite:/data/pokor.db
# SQLite mode keeps pokor.db and the generated secret.key here.
VOLUME /data
EXPOSE 8080
USER 65532:65532
# The image has no curl: pokor checks itself (GET /healthz on POKOR_ADDR).
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 CMD ["/pokor", "healthcheck"]
# Docker's default SIGTERM is what Pokor drains on; give it the time (docker stop -t 45).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/pokor"]
CMD ["serve"]
