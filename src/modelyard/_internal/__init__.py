"""Private helpers shared by every layer (layer 0). Not part of the public API."""
