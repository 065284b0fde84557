"""One spider per platform; each turns API responses or pages into `Post` and `Activity` items."""
