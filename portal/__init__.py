"""The application: settings, app factory and command line (database and services follow)."""
