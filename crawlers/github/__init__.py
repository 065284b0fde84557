"""What the GitHub spider needs besides its callbacks: paging walks and followed repositories."""
