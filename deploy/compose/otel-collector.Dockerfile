# The upstream collector image is FROM scratch: nothing in it can run a health probe. Compose
# health checks run inside the container, so this copies the (static) collector binary onto
# busybox, whose wget probes the collector's health_check extension.
ARG OTELCOL_IMAGE=otel/opentelemetry-collector-contrib:0.116.0
FROM ${OTELCOL_IMAGE} AS otelcol

FROM busybox:1.36
COPY --from=otelcol /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=otelcol /otelcol-contrib /otelcol-contrib
USER 10001:10001
EXPOSE 4317 4318 8889 13133
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["wget", "-q", "-O", "/dev/null", "http://127.0.0.1:13133/"]
ENTRYPOINT ["/otelcol-contrib"]
CMD ["--config", "/etc/otelcol-contrib/config.yaml"]
