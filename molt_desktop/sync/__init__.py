"""Session sync: each device mirrors its sessions into its own folder on a shared backend and reads the others'."""
