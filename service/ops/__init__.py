"""Operations: the Prometheus metrics of every process, and where they are kept."""
