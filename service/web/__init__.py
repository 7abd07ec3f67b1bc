"""The web surfaces other than inbound webhooks: admin API, health, error envelope."""
