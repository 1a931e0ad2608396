"""jinlin's shared kernel: the pieces every service is built from."""
