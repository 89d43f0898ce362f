"""Screens: the dashboard and the help screen."""
