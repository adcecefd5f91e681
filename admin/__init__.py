"""Officer and institution pages (controllers + templates); built in a later issue."""
