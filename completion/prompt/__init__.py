"""What a request's prompt holds: its layout (left to right or FIM), the cursor target, other files' context."""
