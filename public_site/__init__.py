"""Public pages, status API, badges, embeds and feeds (controllers + templates)."""
