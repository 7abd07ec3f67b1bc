"""Operations: what the processes tell their operators (Prometheus metrics, logs)."""
