"""A sample notification gateway (what an SMS or WhatsApp provider's adapter would be):
it verifies each Standard Webhooks signature, keeps each message once (by
`webhook-id`) and records it in a JSON-lines file."""
