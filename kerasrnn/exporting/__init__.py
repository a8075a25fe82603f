"""Writing exports for servers and devices: SavedModel endpoints, TFLite conversion, the checks every
export passes, the browser's batch-1 files (`web`), and the export directory written atomically. Each
task's export uses it."""
