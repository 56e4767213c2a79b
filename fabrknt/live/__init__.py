"""Live updates over `/ws/live` (Django Channels): who may connect (`auth`, `tokens`),
what they may subscribe to (`channels`), the connection itself (`consumer`), and the one
way code pushes an event to subscribers (`publish`)."""
