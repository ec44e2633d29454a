"""Bundled template specs (YAML); installed as package data of cascadebook."""
