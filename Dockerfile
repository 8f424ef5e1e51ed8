# The same `bookstore` binary as `make build`: the monolith (`serve`) and,
# with another subcommand, each microservice of objective 3.
#
# Built by the classic builder as well as BuildKit (no `# syntax=` line: that
# frontend is an image too). The base images are arguments so a machine that
# cannot pull builds on local stand-ins (`make image`, infra/image); the
# defaults are what the release pipeline pulls. GOPROXY, GOFLAGS and
# GONOSUMDB reach `go build` for pipelines behind a module mirror.
ARG BUILD_IMAGE=golang:1.26-bookworm
ARG RUNTIME_IMAGE=gcr.io/distroless/static-debian12:nonroot

FROM ${BUILD_IMAGE} AS build
WORKDIR /src
ARG GOPROXY=https://proxy.golang.org,direct
ARG GOFLAGS=-mod=mod
ARG GONOSUMDB=
ENV GOPROXY=${GOPROXY} GOFLAGS=${GOFLAGS} GONOSUMDB=${GONOSUMDB} GOTOOLCHAIN=local CGO_ENABLED=0 GOOS=linux
COPY go.mod go.sum ./
COPY app ./app
COPY internal ./internal
# `go build` fetches only the binary's own modules, not the infrastructure's.
ARG VERSION=dev
RUN go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/bookstore ./app/cmd/bookstore \
 && mkdir -p /out/data/uploads

FROM ${RUNTIME_IMAGE}
COPY --from=build /out/bookstore /usr/local/bin/bookstore
COPY --from=build --chown=65532:65532 /out/data /data
# The app's defaults (sqlite:data/bookstore.db, data/uploads) from / are
# /data. They are not set here: a BOOKSTORE_X in the image would shadow the
# BOOKSTORE_X_FILE a Swarm service gives (its DSN as a Docker secret).
WORKDIR /
ENV BOOKSTORE_ADDR=0.0.0.0:8080
USER 65532:65532
EXPOSE 8080
VOLUME ["/data"]
# Liveness, not readiness: a database outage must not get the task killed.
HEALTHCHECK --interval=10s --timeout=3s --retries=3 --start-period=30s \
  CMD ["/usr/local/bin/bookstore", "healthcheck", "--path", "/healthz"]
ENTRYPOINT ["/usr/local/bin/bookstore"]
CMD ["serve"]
