"""Notifications to citizens: an outbox in the hub store filled in the same
transaction as the events that cause them (hub.notifications.outbox), and a sender that
delivers them as signed webhooks to the notification gateway, retrying with backoff
(hub.notifications.sender)."""
