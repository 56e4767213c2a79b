"""Our Discord bot and its relay to the web tier: the payload both sides speak
(`payload`), its signature (`signature`), the bot's event handling (`bot`)."""
