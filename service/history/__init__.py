"""The history repository: every archived version as one git commit (contract section 10)."""
