"""Data files of the named objectives (one TOML file each)."""
