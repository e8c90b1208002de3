"""LiveArranger: a real-time intelligent keyboard that arranges what you play."""

__version__ = "0.1.0"
