"""Message backends: console, locmem (tests), file, and HTTP adapters for SMS and WeChat."""
