"""Configuration environments and finding pipeline modules."""
