# seelie-tools: the image of the in-cluster build's "prepare" init container. It carries only the
# compiled seelie CLI (one self-contained executable; it needs glibc, hence distroless/cc).
#
#   bun run build:cli                      # -> dist/seelie
#   docker build -f pods/cloud-build/seelie-tools.Dockerfile -t REGISTRY/seelie/seelie-tools:0.1.0 dist/
#   docker push REGISTRY/seelie/seelie-tools:0.1.0
#
# Then point seelie at it: --tools_image, SEELIE_TOOLS_IMAGE or `cloudBuild: {toolsImage: ...}` in
# ~/.seelie/config.yaml (default ghcr.io/seelie-ml/seelie-tools:0.1.0). The Pod runs it as uid 65532
# with a read-only root filesystem; it writes only into the scratch emptyDir.
ARG BASE=gcr.io/distroless/cc-debian12:nonroot
FROM ${BASE}
COPY seelie /usr/local/bin/seelie
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/seelie"]
