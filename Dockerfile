# syntax=docker/dockerfile:1
# The same `bookstore` binary as `make build`: the monolith (`serve`) and,
# with another subcommand, each microservice of objective 3.

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY app ./app
COPY internal ./internal
ARG VERSION=dev
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/bookstore ./app/cmd/bookstore \
 && mkdir -p /out/data/uploads

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/bookstore /usr/local/bin/bookstore
COPY --from=build --chown=65532:65532 /out/data /data
WORKDIR /data
ENV BOOKSTORE_ADDR=0.0.0.0:8080 \
    BOOKSTORE_DB_DSN=sqlite:/data/bookstore.db \
    BOOKSTORE_UPLOADS_DIR=/data/uploads
USER 65532:65532
EXPOSE 8080
VOLUME ["/data"]
HEALTHCHECK NONE
ENTRYPOINT ["/usr/local/bin/bookstore"]
CMD ["serve"]
