"""The lab's environment: registry containers started with testcontainers, and their state."""
