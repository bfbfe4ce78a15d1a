"""Tests of desktop.config."""
