"""Azure OpenAI Chat: a native desktop chat app for Azure OpenAI."""

__version__ = "0.1.0"
