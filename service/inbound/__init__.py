"""The inbound surface: Genesys Cloud notifications, directly or through EventBridge."""
